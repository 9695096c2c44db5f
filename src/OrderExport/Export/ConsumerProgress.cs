using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Where this instance's export consumer stands on each partition it owns: the records it fetched
/// and has not finished, when it last finished one, how far behind the partition's end it is, and
/// why the record in hand keeps failing. Written by the poll loop and the partition workers; read by
/// readiness (a partition that stopped), the consumer's gauges and <c>GET /orders/{id}</c>. It is
/// this instance's view only: partitions another instance owns are not here.
/// </summary>
public sealed class ConsumerProgress
{
    private readonly ConcurrentDictionary<int, PartitionProgress> _partitions = new();
    private readonly TimeProvider _time;

    public ConsumerProgress(TimeProvider time, OrderExportMetrics metrics)
    {
        _time = time;
        metrics.ConsumerPartitions = () => Snapshot().Select(s =>
            new PartitionGauges(s.Partition, s.Lag, s.OldestUnfinished?.Age ?? TimeSpan.Zero, s.SinceProgress));
    }

    /// <summary>A newly assigned partition starts with nothing fetched.</summary>
    internal PartitionProgress Assigned(int partition) => _partitions[partition] = New(partition);

    /// <summary>The partition's progress; a partition seen before its assignment callback is added.</summary>
    internal PartitionProgress For(int partition) => _partitions.GetOrAdd(partition, New);

    /// <summary>Told of each record fetched (partition, offset, key): the operations page's per-order record log.</summary>
    public Action<int, long, byte[]?>? RecordFetched { get; set; }

    private PartitionProgress New(int partition) => new(partition, _time, (offset, key) => RecordFetched?.Invoke(partition, offset, key));

    internal void Revoked(int partition) => _partitions.TryRemove(partition, out _);

    public IReadOnlyList<PartitionSnapshot> Snapshot() => [.. _partitions.Values.Select(p => p.Snapshot()).OrderBy(s => s.Partition)];

    /// <summary>The partitions that had work and finished nothing for longer than <paramref name="stallAfter"/>.</summary>
    public IReadOnlyList<PartitionSnapshot> Stalled(TimeSpan stallAfter) => [.. Snapshot().Where(s => s.IsStalled(stallAfter))];

    /// <summary>
    /// Why the order's record waits, when this instance fetched it and has not finished it; null
    /// when it does not know (not fetched yet, another instance's partition, or already finished).
    /// </summary>
    public string? ExplainWait(Guid orderId, TimeSpan stallAfter)
    {
        var key = Encoding.UTF8.GetBytes(orderId.ToString());
        foreach (var partition in _partitions.Values)
        {
            if (partition.RecordOf(key) is not { } record)
            {
                continue;
            }

            var state = partition.Snapshot();
            var published = $"Published to partition {state.Partition} @ offset {record.Offset}";
            if (record.InHandFor is { } inHand)
            {
                // Its own record is being handled: its own retries, not another order's.
                return $"{published}; being exported for {Seconds(inHand)}{Failing(record.Retries, record.LastError)}";
            }

            if (state.OldestUnfinished is not { } head)
            {
                return null;
            }

            // Waiting its turn: where the partition is.
            var how = state.IsStalled(stallAfter) ? "stuck" : "working";
            return $"{published}; the partition is {how} at offset {head.Offset} (order {head.OrderKey}) "
                + $"for {Seconds(state.SinceProgress)}{Failing(state.Retries, state.LastError)}";
        }

        return null;
    }

    private static string Failing(int retries, string? lastError) => retries > 0 ? $"; record retried {retries} times, last: {lastError}" : "";

    internal static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s");
}

/// <summary>One partition's state at one moment; <see cref="Lag"/> is null until the first fetch told the end.</summary>
public sealed record PartitionSnapshot(
    int Partition,
    long? Lag,
    int Unfinished,
    UnfinishedRecord? OldestUnfinished,
    TimeSpan SinceProgress,
    int Retries,
    string? LastError)
{
    /// <summary>
    /// Work waits and the partition finished nothing for longer than the limit, or its oldest
    /// unfinished record (where a crash would restart it) has been in hand that long while records
    /// of other orders finish around it. A record only waiting in the queue is not stuck.
    /// </summary>
    public bool IsStalled(TimeSpan stallAfter) =>
        Unfinished > 0 && (SinceProgress > stallAfter || OldestUnfinished?.InHandFor > stallAfter);

    public string Describe(TimeSpan stallAfter) =>
        (SinceProgress > stallAfter
            ? $"partition {Partition} finished nothing for {ConsumerProgress.Seconds(SinceProgress)} (limit {ConsumerProgress.Seconds(stallAfter)}): "
            : $"partition {Partition} moves, but its oldest record has been in hand for {ConsumerProgress.Seconds(OldestUnfinished?.InHandFor ?? TimeSpan.Zero)} (limit {ConsumerProgress.Seconds(stallAfter)}): ")
        + $"stuck at offset {OldestUnfinished?.Offset} (order {OldestUnfinished?.OrderKey}), {Unfinished} record(s) waiting"
        + (Retries > 0 ? $", retried {Retries} times, last: {LastError}" : "");
}

/// <summary>
/// The oldest record fetched and not finished: its offset, key as text, time since its fetch, and
/// how long it has been handled (null while it waits its turn).
/// </summary>
public sealed record UnfinishedRecord(long Offset, string OrderKey, TimeSpan Age, TimeSpan? InHandFor = null);
