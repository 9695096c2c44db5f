using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;

namespace OrderExport.Export;

/// <summary>
/// The records a partition's worker takes from its queue at once, and which of them may use a
/// check made now for the whole batch (<see cref="PriorChecks"/>): only a record that will start
/// its order's lane. A record whose order has a record in hand, or an earlier one in the batch,
/// runs after that one, which may change its order's standing (a dead letter, say): it looks alone.
/// A record without a key may name any order in its value, so while one is in hand or in the
/// batch, no record uses the batch's answer.
/// </summary>
internal sealed class FetchedBatch(int capacity)
{
    private readonly List<ConsumeResult<byte[], byte[]>> _records = new(capacity);
    private readonly List<string> _keys = new(capacity);
    private readonly List<ConsumeResult<byte[], byte[]>> _checkable = new(capacity);
    private readonly List<int> _checkIndex = new(capacity);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public IReadOnlyList<ConsumeResult<byte[], byte[]>> Records => _records;

    /// <summary>Each record's key (its order id as text).</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>The records that start their order's lane, in offset order: what to check.</summary>
    public IReadOnlyList<ConsumeResult<byte[], byte[]>> Checkable => _checkable;

    /// <summary>Replaces the batch with up to its capacity of waiting records. Called under the lanes' lock.</summary>
    public void Take(ChannelReader<ConsumeResult<byte[], byte[]>> queue, Func<string, bool> inHand)
    {
        _records.Clear();
        _keys.Clear();
        _checkable.Clear();
        _checkIndex.Clear();
        _seen.Clear();
        var keyless = inHand(NoKey);
        while (_records.Count < capacity && queue.TryRead(out var record))
        {
            var key = record.Message.Key is { } bytes ? Encoding.UTF8.GetString(bytes) : NoKey;
            keyless |= key == NoKey;
            var starts = !keyless && _seen.Add(key) && !inHand(key);
            _checkIndex.Add(starts ? _checkable.Count : -1);
            if (starts)
            {
                _checkable.Add(record);
            }

            _records.Add(record);
            _keys.Add(key);
        }

        if (keyless)
        {
            _checkable.Clear();
            _checkIndex.Clear();
            _checkIndex.AddRange(Enumerable.Repeat(-1, _records.Count));
        }
    }

    /// <summary>The lane of records without a key.</summary>
    private const string NoKey = "";

    /// <summary>Record <paramref name="index"/>'s answer among <paramref name="checks"/> (one per checkable record), or null.</summary>
    public PriorCheck? CheckOf(int index, PriorCheck?[] checks) =>
        _checkIndex[index] is var at and >= 0 && at < checks.Length ? checks[at] : null;
}
