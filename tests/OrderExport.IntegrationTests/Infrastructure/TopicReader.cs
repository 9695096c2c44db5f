using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using OrderExport.Outbox;

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
        while (_consumer.Consume(TimeSpan.FromMilliseconds(50)) is { } result)
        {
            if (result.IsPartitionEOF || result.Message is null)
            {
                continue;
            }

            var headers = result.Message.Headers?.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()))
                ?? new Dictionary<string, string>();
            _records.Add(new ReadRecord(result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Value, headers));
        }

        return _records.ToList();
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
