namespace OrderExport.Export;

/// <summary>
/// The offsets of one partition that were handed out to be handled, finished in any order. The
/// offset to store is always the lowest one not finished (or, with none left, one past the last
/// handed out): a crash re-delivers everything from there, and never skips a record that was in
/// flight. Finished records above a gap are re-delivered too; the inbox makes them duplicates.
/// Not thread-safe: its owner serialises calls.
/// </summary>
internal sealed class OffsetTracker
{
    private readonly SortedSet<long> _unfinished = [];
    private long _next = -1;

    /// <summary>Records handed out and not finished.</summary>
    public int Count => _unfinished.Count;

    /// <summary>The offset a crash would restart from; null before anything was handed out.</summary>
    public long? CommitPoint => _unfinished.Count > 0 ? _unfinished.Min : _next >= 0 ? _next : null;

    /// <summary>Offsets must come in increasing order, as the partition delivers them.</summary>
    public void Add(long offset)
    {
        if (offset < _next)
        {
            throw new InvalidOperationException($"Offset {offset} handed out after {_next - 1}: a partition delivers in order.");
        }

        _unfinished.Add(offset);
        _next = offset + 1;
    }

    /// <summary>Marks the offset finished; returns the new commit point when it moved, else null.</summary>
    public long? Finish(long offset)
    {
        if (_unfinished.Count == 0 || !_unfinished.Remove(offset))
        {
            throw new InvalidOperationException($"Offset {offset} finished but was not in flight.");
        }

        return offset < (_unfinished.Count > 0 ? _unfinished.Min : long.MaxValue) ? CommitPoint : null;
    }
}
