using OrderExport.Telemetry;

namespace OrderExport.Operations;

/// <summary>
/// The platform HTTP attempts of the last <see cref="MaxOrders"/> orders this instance exported,
/// at most <see cref="MaxAttemptsPerOrder"/> each (the latest kept), for an order's journey on the
/// operations page. In memory and bounded: a restart or another replica's attempts are not here,
/// and the page says so.
/// </summary>
public sealed class PlatformAttemptLog
{
    public const int MaxOrders = 2000;
    public const int MaxAttemptsPerOrder = 20;

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, List<PlatformAttemptRecord>> _byOrder = [];
    private readonly Queue<Guid> _orders = new();

    public PlatformAttemptLog(OrderExportMetrics metrics) => metrics.PlatformAttemptObserved = Add;

    public void Add(PlatformAttemptRecord attempt)
    {
        lock (_lock)
        {
            if (!_byOrder.TryGetValue(attempt.OrderId, out var attempts))
            {
                attempts = [];
                _byOrder[attempt.OrderId] = attempts;
                _orders.Enqueue(attempt.OrderId);
                while (_orders.Count > MaxOrders)
                {
                    _byOrder.Remove(_orders.Dequeue());
                }
            }

            if (attempts.Count >= MaxAttemptsPerOrder)
            {
                attempts.RemoveAt(0);
            }

            attempts.Add(attempt);
        }
    }

    public IReadOnlyList<PlatformAttemptRecord> For(Guid orderId)
    {
        lock (_lock)
        {
            return _byOrder.TryGetValue(orderId, out var attempts) ? [.. attempts] : [];
        }
    }
}
