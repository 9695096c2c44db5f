using System.Buffers.Text;
using OrderExport.Export;
using OrderExport.Telemetry;

namespace OrderExport.Operations;

/// <summary>
/// What this instance saw of each order and the service does not store, for the order's journey on
/// the operations page: the records of the order its consumer fetched (partition, offset, when) and
/// the platform HTTP attempts (status, duration), fed where those happen. In memory and bounded: the
/// last <see cref="MaxOrders"/> orders, the latest <see cref="MaxPerOrder"/> entries of each; a
/// restart or another replica's work is not here, and the page says so.
/// </summary>
public sealed class OrderActivityLog
{
    public const int MaxOrders = 2000;
    public const int MaxPerOrder = 20;

    private readonly PerOrderLog<PlatformAttemptRecord> _attempts = new(MaxOrders, MaxPerOrder);
    private readonly PerOrderLog<FetchedRecord> _fetched = new(MaxOrders, MaxPerOrder);

    public OrderActivityLog(OrderExportMetrics metrics, ConsumerProgress consumer, TimeProvider time)
    {
        metrics.PlatformAttemptObserved = attempt => _attempts.Add(attempt.OrderId, attempt);
        consumer.RecordFetched = (partition, offset, key) =>
        {
            // Keys are order ids as text; anything else (a foreign or broken record) has no journey.
            if (key is not null && Utf8Parser.TryParse(key, out Guid orderId, out var used, 'D') && used == key.Length)
            {
                _fetched.Add(orderId, new FetchedRecord(partition, offset, time.GetUtcNow()));
            }
        };
    }

    public IReadOnlyList<PlatformAttemptRecord> Attempts(Guid orderId) => _attempts.For(orderId);

    public IReadOnlyList<FetchedRecord> Fetched(Guid orderId) => _fetched.For(orderId);
}

/// <summary>A record of an order as this instance's consumer fetched it.</summary>
public sealed record FetchedRecord(int Partition, long Offset, DateTimeOffset At);

/// <summary>Entries per order, bounded: the oldest order is forgotten first, and each order keeps its latest entries.</summary>
internal sealed class PerOrderLog<T>(int maxOrders, int maxPerOrder)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, List<T>> _byOrder = [];
    private readonly Queue<Guid> _orders = new();

    public void Add(Guid orderId, T entry)
    {
        lock (_lock)
        {
            if (!_byOrder.TryGetValue(orderId, out var entries))
            {
                entries = [];
                _byOrder[orderId] = entries;
                _orders.Enqueue(orderId);
                while (_orders.Count > maxOrders)
                {
                    _byOrder.Remove(_orders.Dequeue());
                }
            }

            if (entries.Count >= maxPerOrder)
            {
                entries.RemoveAt(0);
            }

            entries.Add(entry);
        }
    }

    public IReadOnlyList<T> For(Guid orderId)
    {
        lock (_lock)
        {
            return _byOrder.TryGetValue(orderId, out var entries) ? [.. entries] : [];
        }
    }
}
