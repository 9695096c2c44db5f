using Confluent.Kafka;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Messaging;

/// <summary>The service places a key on the partition Java's Kafka clients (Kafka UI, the CLI, a Java service) would.</summary>
public sealed class PartitionerTests(KafkaTestBroker broker)
{
    [Fact]
    public void Murmur2_MatchesKafkasOwnTestVectors()
    {
        // org.apache.kafka.common.utils.UtilsTest#testMurmur2
        Murmur2("21"u8.ToArray()).ShouldBe(-973932308);
        Murmur2("foobar"u8.ToArray()).ShouldBe(-790332482);
        Murmur2("a-little-bit-long-string"u8.ToArray()).ShouldBe(-985981536);
        Murmur2("a-little-bit-longer-string"u8.ToArray()).ShouldBe(-1486304829);
        Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"u8.ToArray()).ShouldBe(-58897971);
        Murmur2("abc"u8.ToArray()).ShouldBe(479470107);
    }

    [Fact]
    public async Task ServiceProducer_PlacesEachOrderKeyWhereJavasMurmur2PartitionerDoes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var topics = await broker.CreateTopicsAsync(partitions: 3);
        var settings = new Dictionary<string, string?> { ["Outbox:RelayEnabled"] = "false", ["Consumer:Enabled"] = "false" };
        await using var app = new OrderExportApp(broker, topics, DatabaseProvider.Sqlite, database.ConnectionString, settings);
        app.Start();
        var producer = app.Service<KafkaProducer>().Producer;

        for (var i = 0; i < 30; i++)
        {
            var key = Guid.NewGuid().ToString();
            var delivered = await producer.ProduceAsync(topics.Topic, new Message<string, byte[]> { Key = key, Value = [1] }, ct);
            var java = (Murmur2(System.Text.Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % topics.Partitions;
            delivered.Partition.Value.ShouldBe(java, $"key {key}");
        }
    }

    /// <summary>Kafka's Utils.murmur2 (seed 0x9747b28c), as Java's default partitioner uses it.</summary>
    private static int Murmur2(byte[] data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28c ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BitConverter.ToUInt32(data, i * 4);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        var tail = blocks * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
