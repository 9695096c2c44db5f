namespace OrderExport.Platform;

/// <summary>
/// What happened during one export call, across its attempts. It travels in the
/// <see cref="Polly.ResilienceContext"/> so the shared pipeline's callbacks can log and record
/// per call; attempts are sequential, so it needs no locking.
/// </summary>
internal sealed class PlatformCall(PlatformExportRequest request)
{
    public PlatformExportRequest Request { get; } = request;

    /// <summary>HTTP requests actually sent.</summary>
    public int Attempts { get; set; }

    public int? LastStatusCode { get; private set; }

    public string? LastError { get; private set; }

    public DateTimeOffset? FirstFailureAt { get; private set; }

    public DateTimeOffset? LastFailureAt { get; private set; }

    public void RecordFailure(string error, int? statusCode, DateTimeOffset at)
    {
        LastError = error;
        LastStatusCode = statusCode;
        FirstFailureAt ??= at;
        LastFailureAt = at;
    }

    public PlatformResult ToResult(PlatformOutcome outcome, int? statusCode, string? reason, bool circuitOpen = false) => new()
    {
        Outcome = outcome,
        Attempts = Attempts,
        StatusCode = statusCode,
        Reason = reason,
        CircuitOpen = circuitOpen,
        FirstFailureAt = FirstFailureAt,
        LastFailureAt = LastFailureAt,
    };
}
