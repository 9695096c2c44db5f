using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Messaging;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// Baseline: how fast the embedded broker takes the service's record from a bare producer.
/// The broker and the producer are built by the service's own KafkaConnection and KafkaProducer
/// (so acks=all, idempotence, linger, batch size and compression are the service defaults);
/// records go out with Produce and a delivery callback, never awaited one by one.
/// </summary>
internal static class RawProduce
{
    public static async Task RunOnceAsync(BenchContext context, int run)
    {
        var options = context.Options;
        var measurement = context.Measure("produce", "Baselines", "Raw Kafka produce (Produce + delivery callbacks)", "records/s");
        measurement.Notes["partitions"] = options.DrainPartitions.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var kafka = Options.Create(new KafkaOptions { Partitions = options.DrainPartitions });
        using var connection = new KafkaConnection(kafka, NullLogger<KafkaConnection>.Instance);
        using var producer = new KafkaProducer(connection, kafka, NullLogger<KafkaProducer>.Instance);
        var topic = kafka.Value.Topic;
        var now = DateTime.UtcNow;
        var messages = Enumerable.Range(0, options.ProduceMessages).Select(i => Envelopes.ToKafka(Envelopes.SampleEvent(i, now))).ToArray();
        var warmUp = Enumerable.Range(0, 2_000).Select(i => Envelopes.ToKafka(Envelopes.SampleEvent(i, now))).ToArray();
        measurement.Notes["record bytes"] = messages[0].Value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await ProduceAllAsync(producer.Producer, topic, warmUp);
        await using var meter = ResourceMeter.Start(options.PostgresData);
        var elapsed = await ProduceAllAsync(producer.Producer, topic, messages);
        var usage = await meter.StopAsync();

        var lost = Brokers.LostRecords(connection.BootstrapServers, topic, options.DrainPartitions, messages.Length + warmUp.Length);
        var result = new Dictionary<string, double>
        {
            [Reporting.Metrics.Rate] = messages.Length / elapsed.TotalSeconds,
            [Reporting.Metrics.Lost] = lost,
        };
        measurement.AddResources(result, usage, messages.Length);
        measurement.Runs.Add(result);
        context.Log($"raw produce run {run + 1}: {result[Reporting.Metrics.Rate]:N0} records/s, lost {lost}");
    }

    /// <summary>Produces all records and returns when the last delivery report came back.</summary>
    private static async Task<TimeSpan> ProduceAllAsync(IProducer<string, byte[]> producer, string topic, Message<string, byte[]>[] messages)
    {
        var pending = messages.Length;
        var failed = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnDelivery(DeliveryReport<string, byte[]> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref failed);
            }

            if (Interlocked.Decrement(ref pending) == 0)
            {
                done.SetResult();
            }
        }

        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var message in messages)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, OnDelivery);
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    await Task.Delay(1);
                }
            }
        }

        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        return failed == 0 ? elapsed : throw new InvalidOperationException($"{failed} records were not acknowledged");
    }
}
