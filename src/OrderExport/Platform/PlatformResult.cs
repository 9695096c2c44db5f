namespace OrderExport.Platform;

public enum PlatformOutcome
{
    /// <summary>The platform accepted the order (2xx), possibly after retries.</summary>
    Exported,

    /// <summary>The platform refused the order (400, 404, 422 and other non-transient statuses): retrying cannot help.</summary>
    PermanentFailure,

    /// <summary>Transient failures until the retries or the total timeout ran out, or the circuit is open: try again later.</summary>
    TransientExhausted,
}

/// <summary>
/// The outcome of one <see cref="IPlatformClient.ExportAsync"/> call. <see cref="Attempts"/> counts
/// HTTP requests actually sent (0 when the circuit was already open).
/// </summary>
public sealed record PlatformResult
{
    public required PlatformOutcome Outcome { get; init; }

    public required int Attempts { get; init; }

    /// <summary>Status of the last response, if there was one (none after a timeout or a connection error).</summary>
    public int? StatusCode { get; init; }

    /// <summary>Why it failed, for logs and the dead-letter record; null when exported.</summary>
    public string? Reason { get; init; }

    /// <summary>True when the call was refused by the open circuit breaker rather than by the platform.</summary>
    public bool CircuitOpen { get; init; }

    public DateTimeOffset? FirstFailureAt { get; init; }

    public DateTimeOffset? LastFailureAt { get; init; }

    public bool IsExported => Outcome == PlatformOutcome.Exported;
}
