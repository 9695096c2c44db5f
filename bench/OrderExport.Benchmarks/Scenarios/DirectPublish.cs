using System.Collections.Concurrent;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// Baseline: the original Spring sample's approach. Each writer commits the order (no outbox
/// row) and then hands the record straight to the producer, the way an after-commit listener
/// calls KafkaTemplate.send: it does not wait for the acknowledgement. Every acknowledgement
/// is awaited before the run ends, and a run with a failed one is an error.
/// </summary>
internal static class DirectPublish
{
    public static async Task RunOnceAsync(BenchContext context, int run, DatabaseProvider provider)
    {
        var options = context.Options;
        var measurement = context.Measure(
            $"direct.{BenchContext.Tag(provider)}", "Baselines",
            $"Direct publish after commit, no outbox (Spring sample), {BenchContext.Label(provider)}", "orders/s");
        measurement.Notes["writers"] = options.Writers.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await using var database = await context.NewDatabaseAsync(provider);
        var settings = ServiceHost.Settings(database, options);
        settings["Outbox:RelayEnabled"] = "false";
        settings["Consumer:Enabled"] = "false";
        await using var host = await ServiceHost.StartAsync(settings);
        var withoutInterceptor = OrderWrites.WithoutInterceptor(database);
        var producer = host.Producer.Producer;
        var acks = new ConcurrentQueue<Task>();

        ResourceMeter? meter = null;
        ResourceUsage? usage = null;
        var result = await LoadGenerators.ClosedLoopAsync(
            options.Writers, options.WarmUp, options.Window,
            async () => acks.Enqueue((await OrderWrites.CommitThenPublishAsync(withoutInterceptor, producer, host.Topic)).Ack),
            onWindowStart: () =>
            {
                meter = ResourceMeter.Start(options.PostgresData);
                return Task.CompletedTask;
            },
            onWindowEnd: async () => usage = await meter!.StopAsync());
        await meter!.DisposeAsync();
        await Task.WhenAll(acks);

        var metrics = new Dictionary<string, double>
        {
            [Metrics.Rate] = result.Rate,
            [Metrics.MeanWriteMs] = result.MeanMs,
        };
        measurement.AddResources(metrics, usage!, result.DurationsMs.Count);
        measurement.Runs.Add(metrics);
        context.Log($"{measurement.Key} run {run + 1}: {result.Rate:N0} orders/s, {result.MeanMs:0.00} ms/commit, failures {result.Failures}");
    }
}
