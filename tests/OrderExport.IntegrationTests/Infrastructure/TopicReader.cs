using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using OrderExport.Messaging;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>A record read back from a topic, for assertions.</summary>
public sealed record ReadRecord(int Partition, long Offset, string Key, string Value, IReadOnlyDictionary<string, string> Headers)
{
    public MessageEnvelope Envelope => JsonSerializer.Deserialize<MessageEnvelope>(Value, JsonSerializerOptions.Web)!;
}

/// <summary>Reads everything on a topic from the beginning (no group, no commits), to count and inspect records.</summary>
public sealed class TopicReader : IDisposable
{
    private readonly IConsumer<string, string> _consumer;
    private readonly List<ReadRecord> _records = [];
    private readonly Dictionary<int, long> _next = [];

    public TopicReader(KafkaTestBroker broker, string topic, int partitions)
    {
        _consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = $"reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 10,
        }).Build();
        _consumer.Assign(Enumerable.Range(0, partitions)
            .Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
    }

    /// <summary>Everything read so far, after draining what is available now.</summary>
    public IReadOnlyList<ReadRecord> ReadAvailable()
    {
        while (TryRead(TimeSpan.FromMilliseconds(50)))
        {
        }

        return _records.ToList();
    }

    /// <summary>
    /// Everything read so far, after reading every partition up to its end as the broker reports it
    /// now: no record acknowledged before this call can be missing.
    /// </summary>
    public IReadOnlyList<ReadRecord> ReadToEnd(TimeSpan? timeout = null)
    {
        var ends = _consumer.Assignment.ToDictionary(tp => tp.Partition.Value, tp => _consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        // A monotonic clock: a wall-clock step must not end the wait early (CI once gave up having read nothing).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        while (ends.Any(end => _next.GetValueOrDefault(end.Key) < end.Value))
        {
            if (!TryRead(TimeSpan.FromMilliseconds(100)) && clock.Elapsed > limit)
            {
                throw new TimeoutException($"Could not read to the end of the topic ({string.Join(", ", ends.Select(e => $"[{e.Key}] {_next.GetValueOrDefault(e.Key)} of {e.Value}"))}).");
            }
        }

        return _records.ToList();
    }

    private bool TryRead(TimeSpan wait)
    {
        if (_consumer.Consume(wait) is not { } result)
        {
            return false;
        }

        if (result.IsPartitionEOF || result.Message is null)
        {
            return true;
        }

        var headers = result.Message.Headers?.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()))
            ?? new Dictionary<string, string>();
        _records.Add(new ReadRecord(result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Value, headers));
        _next[result.Partition.Value] = result.Offset.Value + 1;
        return true;
    }

    /// <summary>Polls until at least <paramref name="count"/> records are there.</summary>
    public Task<IReadOnlyList<ReadRecord>> WaitForAsync(int count, TimeSpan? timeout = null) =>
        Eventually.Until(() => Task.FromResult(ReadAvailable()), r => r.Count >= count, timeout, $"{count} records");

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }
}
