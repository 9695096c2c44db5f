using System.Text;

namespace OrderExport.Export;

/// <summary>
/// One partition's progress (thread-safe: the poll loop fetches, the partition's workers finish,
/// readers snapshot). Records of different orders finish in any order; the oldest unfinished one
/// is where the partition's commit point waits.
/// </summary>
internal sealed class PartitionProgress(int partition, TimeProvider time, Action<long, byte[]?>? fetched = null)
{
    private const int MaxErrorLength = 300;

    private readonly Lock _lock = new();

    // Fetched and not finished, by offset.
    private readonly SortedDictionary<long, Unfinished> _unfinished = [];

    // When it last finished a record, or when work came to it while it had none.
    private long _progressAt = time.GetTimestamp();
    private long _nextOffset = -1;
    private long _highWatermark = -1;

    public void Fetched(long offset, byte[]? key)
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_unfinished.Count == 0)
            {
                _progressAt = now;
            }

            _unfinished[offset] = new Unfinished(key, now);
        }

        fetched?.Invoke(offset, key);
    }

    /// <summary>A worker took the record at <paramref name="offset"/> in hand.</summary>
    public void Started(long offset)
    {
        lock (_lock)
        {
            if (_unfinished.TryGetValue(offset, out var record))
            {
                record.StartedAt = time.GetTimestamp();
            }
        }
    }

    /// <summary>The record at <paramref name="offset"/> failed and is retried.</summary>
    public void Failed(long offset, Exception exception)
    {
        lock (_lock)
        {
            if (_unfinished.TryGetValue(offset, out var record))
            {
                record.Retries++;
                record.LastError = Describe(exception);
            }
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

    public void Finished(long offset)
    {
        lock (_lock)
        {
            _unfinished.Remove(offset);
            _nextOffset = Math.Max(_nextOffset, offset + 1);
            _progressAt = time.GetTimestamp();
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

    /// <summary>The key's (order's) first unfinished record: where it is, how long in hand, how it fails; null when none.</summary>
    public RecordState? RecordOf(byte[] key)
    {
        lock (_lock)
        {
            foreach (var (offset, record) in _unfinished)
            {
                if (record.Key is not null && record.Key.AsSpan().SequenceEqual(key))
                {
                    return new RecordState(offset, record.StartedAt is { } started ? time.GetElapsedTime(started) : null, record.Retries, record.LastError);
                }
            }

            return null;
        }
    }

    /// <summary>The lag counts from the oldest unfinished record: a crash would re-deliver from there.</summary>
    public PartitionSnapshot Snapshot()
    {
        lock (_lock)
        {
            UnfinishedRecord? oldest = null;
            var next = _nextOffset;
            var (retries, lastError) = (0, (string?)null);
            if (_unfinished.Count > 0)
            {
                var (offset, head) = _unfinished.First();
                oldest = new UnfinishedRecord(offset, head.Key is null ? "" : Encoding.UTF8.GetString(head.Key), time.GetElapsedTime(head.FetchedAt),
                    head.StartedAt is { } started ? time.GetElapsedTime(started) : null);
                next = offset;
                (retries, lastError) = (head.Retries, head.LastError);
            }

            long? lag = _highWatermark >= 0 && next >= 0 ? Math.Max(0, _highWatermark - next) : null;
            var sinceProgress = _unfinished.Count > 0 ? time.GetElapsedTime(_progressAt) : TimeSpan.Zero;
            return new PartitionSnapshot(partition, lag, _unfinished.Count, oldest, sinceProgress, retries, lastError);
        }
    }

    private sealed class Unfinished(byte[]? key, long fetchedAt)
    {
        public byte[]? Key { get; } = key;

        public long FetchedAt { get; } = fetchedAt;

        public long? StartedAt { get; set; }

        public int Retries { get; set; }

        public string? LastError { get; set; }
    }
}

/// <summary>One unfinished record: its offset, how long it has been handled (null while it waits), its retries and last error.</summary>
internal sealed record RecordState(long Offset, TimeSpan? InHandFor, int Retries, string? LastError);
