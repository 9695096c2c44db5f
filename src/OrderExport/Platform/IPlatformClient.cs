namespace OrderExport.Platform;

/// <summary>Sends one export to the external platform, retrying transient failures within a budget.</summary>
public interface IPlatformClient
{
    /// <summary>
    /// Never throws for an HTTP failure: the result says whether the order was exported, refused
    /// for good, or could not be delivered in time. Throws <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> is cancelled (shutdown): then nothing is known.
    /// </summary>
    Task<PlatformResult> ExportAsync(PlatformExportRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// What the platform receives, as the JSON body of <c>POST /platform/orders</c>.
/// <see cref="EventId"/> also travels as the <c>Idempotency-Key</c> header, the same on every attempt.
/// </summary>
public sealed record PlatformExportRequest(
    Guid EventId,
    Guid OrderId,
    int Sequence,
    string CustomerId,
    decimal Amount,
    string Currency);
