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
            if (partition.OffsetOf(key) is not { } offset)
            {
                continue;
            }

            var state = partition.Snapshot();
            var published = $"Published to partition {state.Partition} @ offset {offset}";
            if (state.OldestUnfinished is not { } head)
            {
                return null;
            }

            var failing = state.Retries > 0 ? $"; record retried {state.Retries} times, last: {state.LastError}" : "";
            if (head.Offset == offset)
            {
                return $"{published}; being exported for {Seconds(head.Age)}{failing}";
            }

            var how = state.IsStalled(stallAfter) ? "stuck" : "working";
            return $"{published}; the partition is {how} at offset {head.Offset} (order {head.OrderKey}) for {Seconds(state.SinceProgress)}{failing}";
        }

        return null;
    }

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
    public bool IsStalled(TimeSpan stallAfter) => Unfinished > 0 && SinceProgress > stallAfter;

    public string Describe(TimeSpan stallAfter) =>
        $"partition {Partition} finished nothing for {ConsumerProgress.Seconds(SinceProgress)} (limit {ConsumerProgress.Seconds(stallAfter)}): "
        + $"stuck at offset {OldestUnfinished?.Offset} (order {OldestUnfinished?.OrderKey}), {Unfinished} record(s) waiting"
        + (Retries > 0 ? $", retried {Retries} times, last: {LastError}" : "");
}

/// <summary>The oldest record fetched and not finished: its offset, key as text, and time since its fetch.</summary>
public sealed record UnfinishedRecord(long Offset, string OrderKey, TimeSpan Age);

/// <summary>One partition's progress (thread-safe: the poll loop fetches, the worker finishes, readers snapshot).</summary>
internal sealed class PartitionProgress(int partition, TimeProvider time, Action<long, byte[]?>? fetched = null)
{
    private readonly Lock _lock = new();

    // Fetched and not finished, in offset order: the head is the record in hand or next.
    private readonly Queue<(long Offset, byte[]? Key, long FetchedAt)> _unfinished = new();

    // When it last finished a record, or when work came to it while it had none.
    private long _progressAt = time.GetTimestamp();
    private long _nextOffset = -1;
    private long _highWatermark = -1;
    private int _retries;
    private string? _lastError;

    public void Fetched(long offset, byte[]? key)
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_unfinished.Count == 0)
            {
                _progressAt = now;
            }

            _unfinished.Enqueue((offset, key, now));
        }

        fetched?.Invoke(offset, key);
    }

    /// <summary>The record in hand failed and is retried.</summary>
    public void Failed(Exception exception)
    {
        lock (_lock)
        {
            _retries++;
            _lastError = Describe(exception);
        }
    }

    /// <summary>The failure and its root cause (a DbUpdateException's own message says only "see the inner exception").</summary>
    private static string Describe(Exception exception)
    {
        var root = exception.GetBaseException();
        var text = root == exception
            ? $"{exception.GetType().Name}: {exception.Message}"
            : $"{exception.GetType().Name} ({root.GetType().Name}: {root.Message})";
        return text.Length <= MaxErrorLength ? text : string.Concat(text.AsSpan(0, MaxErrorLength), "…");
    }

    private const int MaxErrorLength = 300;

    public void Finished(long offset)
    {
        lock (_lock)
        {
            while (_unfinished.TryPeek(out var head) && head.Offset <= offset)
            {
                _unfinished.Dequeue();
            }

            _nextOffset = offset + 1;
            _progressAt = time.GetTimestamp();
            _retries = 0;
            _lastError = null;
        }
    }

    /// <summary>True until the partition fetched or finished a record: then only the committed offset tells where it is.</summary>
    public bool NeedsCommitted
    {
        get
        {
            lock (_lock)
            {
                return _nextOffset < 0 && _unfinished.Count == 0;
            }
        }
    }

    /// <summary>
    /// The partition's end as of the last fetch, and, while nothing was fetched, the committed offset
    /// (where the group left it; negative when unknown).
    /// </summary>
    public void Observe(long highWatermark, long committed)
    {
        lock (_lock)
        {
            _highWatermark = highWatermark;
            if (_nextOffset < 0 && _unfinished.Count == 0 && committed >= 0)
            {
                _nextOffset = committed;
            }
        }
    }

    public long? OffsetOf(byte[] key)
    {
        lock (_lock)
        {
            foreach (var record in _unfinished)
            {
                if (record.Key is not null && record.Key.AsSpan().SequenceEqual(key))
                {
                    return record.Offset;
                }
            }

            return null;
        }
    }

    public PartitionSnapshot Snapshot()
    {
        lock (_lock)
        {
            UnfinishedRecord? oldest = null;
            var next = _nextOffset;
            if (_unfinished.TryPeek(out var head))
            {
                oldest = new UnfinishedRecord(head.Offset, head.Key is null ? "" : Encoding.UTF8.GetString(head.Key), time.GetElapsedTime(head.FetchedAt));
                next = head.Offset;
            }

            long? lag = _highWatermark >= 0 && next >= 0 ? Math.Max(0, _highWatermark - next) : null;
            var sinceProgress = _unfinished.Count > 0 ? time.GetElapsedTime(_progressAt) : TimeSpan.Zero;
            return new PartitionSnapshot(partition, lag, _unfinished.Count, oldest, sinceProgress, _retries, _lastError);
        }
    }
}
