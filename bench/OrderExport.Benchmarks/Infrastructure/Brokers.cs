using Confluent.Kafka;

namespace OrderExport.Benchmarks.Infrastructure;

internal static class Brokers
{
    /// <summary>
    /// How many of <paramref name="expected"/> records the topic no longer holds. The embedded
    /// broker keeps about 5 MiB / 100k message sets per partition and drops the oldest beyond
    /// that: a low watermark above 0, or fewer records than expected, means data was lost.
    /// </summary>
    public static long LostRecords(string bootstrapServers, string topic, int partitions, long expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"bench-watermarks-{Guid.NewGuid():N}",
        }).Build();
        long held = 0;
        for (var p = 0; p < partitions; p++)
        {
            var offsets = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            held += offsets.High.Value - offsets.Low.Value;
        }

        return expected - held;
    }
}
