using System.Diagnostics;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Messaging;
using OrderExport.Messaging.Embedded;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// The consumer stage on its own: one host writes a backlog through the service's write path and
/// its relay publishes it; a second host on the same broker and database runs only the consumer,
/// which exports the backlog to the fake platform. The rate runs from the first platform call to
/// the last, so consumer-group start-up is not counted.
/// </summary>
internal static class ConsumerDrain
{
    /// <param name="inFlight">Consumer:MaxInFlightPerPartition (orders of one partition exported side by side); null: the default.</param>
    public static async Task RunOnceAsync(BenchContext context, int run, DatabaseProvider provider, int? inFlight = null)
    {
        var options = context.Options;
        var measurement = context.Measure(
            $"consumer.{BenchContext.Tag(provider)}{(inFlight is null ? "" : $".inflight{inFlight}")}", "Pipeline",
            $"Consumer drain of {options.ConsumerBacklog:N0} published records (stage capacity), {BenchContext.Label(provider)}"
                + (inFlight switch
                {
                    null => "",
                    1 => ", strict offset order (Consumer:MaxInFlightPerPartition=1)",
                    _ => $", {inFlight} orders per partition side by side (Consumer:MaxInFlightPerPartition={inFlight})",
                }), "orders/s");

        var kafka = new KafkaOptions();
        using var broker = EmbeddedKafkaCluster.Start();
        broker.CreateTopic(kafka.Topic, kafka.Partitions);
        broker.CreateTopic(kafka.DeadLetterTopic, kafka.Partitions);
        await using var database = await context.NewDatabaseAsync(provider);

        var writerSettings = ServiceHost.Settings(database, options, broker.BootstrapServers);
        writerSettings["Consumer:Enabled"] = "false";
        await using (var writer = await ServiceHost.StartAsync(writerSettings))
        {
            var remaining = options.ConsumerBacklog;
            await Task.WhenAll(Enumerable.Range(0, options.Writers).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Decrement(ref remaining) >= 0)
                {
                    await OrderWrites.ConfirmAsync(writer.Services);
                }
            })));
            while (await database.ScalarAsync<long>("SELECT COUNT(*) FROM outbox_messages WHERE published_at IS NULL") > 0)
            {
                await Task.Delay(50);
            }
        }

        var consumerSettings = ServiceHost.Settings(database, options, broker.BootstrapServers);
        consumerSettings["Outbox:RelayEnabled"] = "false";
        if (inFlight is { } bound)
        {
            consumerSettings["Consumer:MaxInFlightPerPartition"] = bound.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var timer = new SqlTimer();
        await using var consumer = await ServiceHost.StartAsync(consumerSettings,
            services => services.ConfigureDbContext<OrderExportDbContext>(o => o.AddInterceptors(timer)));
        await using var meter = ResourceMeter.Start(options.PostgresData);
        var started = Stopwatch.GetTimestamp();
        while (consumer.Platform.Received.Count < options.ConsumerBacklog)
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"The consumer exported {consumer.Platform.Received.Count} of {options.ConsumerBacklog} records in 3 minutes");
            }

            await Task.Delay(50);
        }

        var usage = await meter.StopAsync();
        var received = consumer.Platform.Received;
        var span = received[^1].ReceivedAt - received[0].ReceivedAt;
        var metrics = new Dictionary<string, double>
        {
            [Metrics.Rate] = (received.Count - 1) / span.TotalSeconds,
            [Metrics.MeanRecordMs] = span.TotalMilliseconds / (received.Count - 1),
            // Partitions are handled side by side: the database time a record costs, summed over the workers.
            [Metrics.DbMsPerRecord] = timer.Total.TotalMilliseconds / received.Count,
        };
        measurement.AddResources(metrics, usage, received.Count);
        measurement.Runs.Add(metrics);
        context.Log($"{measurement.Key} run {run + 1}: {metrics[Metrics.Rate]:N0} orders/s, {metrics[Metrics.MeanRecordMs]:0.00} ms/record, db {metrics[Metrics.DbMsPerRecord]:0.00} ms/record; {usage.TopThreads()}");
    }
}
