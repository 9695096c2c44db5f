using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// The whole pipeline at the most it can carry: N closed-loop writers confirm orders through the
/// service's write path while its relay publishes and its consumer exports to the fake platform
/// (which answers at once). Writers hold off while <see cref="MaxInFlight"/> orders are written
/// but not yet at the platform, so the pipeline runs at its own pace with a bounded backlog: that
/// pace is sustainable, whereas unthrottled writers would only grow an endless backlog (and
/// starve the single consumer of CPU). Throughput is what reached the platform in the window.
/// </summary>
internal static class EndToEnd
{
    /// <summary>One relay batch (Outbox:BatchSize default): enough queue for every stage to stay busy.</summary>
    public const int MaxInFlight = 500;

    public static async Task RunOnceAsync(BenchContext context, int run, DatabaseProvider provider)
    {
        var options = context.Options;
        var measurement = context.Measure(
            $"e2e.{BenchContext.Tag(provider)}", "Pipeline",
            $"End to end: confirm → outbox → relay → Kafka → consumer → platform, {BenchContext.Label(provider)}", "orders/s");
        measurement.Notes["writers"] = options.Writers.ToString(System.Globalization.CultureInfo.InvariantCulture);
        measurement.Notes["max in flight"] = MaxInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await using var database = await context.NewDatabaseAsync(provider);
        // Declared before the host, so it outlives the consumer's last export at shutdown.
        using var inFlight = new SemaphoreSlim(MaxInFlight);
        var exports = new PlatformCallCounter();
        await using var host = await ServiceHost.StartAsync(ServiceHost.Settings(database, options), exports.AddTo);
        // More instances consuming in the same group (relay off), on the same database and broker.
        var others = new List<ServiceHost>();
        for (var i = 1; i < options.Consumers; i++)
        {
            var other = ServiceHost.Settings(database, options, host.Kafka.BootstrapServers);
            other["Outbox:RelayEnabled"] = "false";
            others.Add(await ServiceHost.StartAsync(other, exports.AddTo));
        }

        measurement.Notes["consuming instances"] = options.Consumers.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The group rebalances as members join: wait until every instance has exported something.
        var joined = System.Diagnostics.Stopwatch.StartNew();
        while (others.Count > 0 && others.Append(host).Any(h => h.Platform.Received.Count == 0) && joined.Elapsed < TimeSpan.FromSeconds(60))
        {
            for (var i = 0; i < 20; i++)
            {
                await OrderWrites.ConfirmAsync(host.Services);
            }

            await Task.Delay(300);
        }

        await host.WaitUntilFlowingAsync(() => OrderWrites.ConfirmAsync(host.Services), () => exports.Count);
        exports.Succeeded += () => inFlight.Release();

        ResourceMeter? meter = null;
        ResourceUsage? usage = null;
        var result = await LoadGenerators.ClosedLoopAsync(
            options.Writers, options.WarmUp, options.Window,
            async () =>
            {
                await inFlight.WaitAsync();
                await OrderWrites.ConfirmAsync(host.Services);
            },
            onWindowStart: () =>
            {
                meter = ResourceMeter.Start(options.PostgresData);
                return Task.CompletedTask;
            },
            onWindowEnd: async () => usage = await meter!.StopAsync());
        await meter!.DisposeAsync();

        bool InWindow(DateTime utc) => utc >= result.WindowStartUtc && utc < result.WindowEndUtc;
        var received = others.SelectMany(o => o.Platform.Received).Concat(host.Platform.Received).ToList();
        foreach (var other in others)
        {
            await other.DisposeAsync();
        }

        var exported = received.Count(r => r is { StatusCode: 200, Duplicate: false } && InWindow(r.ReceivedAt.UtcDateTime));
        var publishedAt = await database.PublishedAtByOrderAsync();
        var published = publishedAt.Values.Count(InWindow);
        var written = await database.ScalarAsync<long>("SELECT COUNT(*) FROM orders");
        var seconds = result.Window.TotalSeconds;

        var metrics = new Dictionary<string, double>
        {
            [Metrics.Rate] = exported / seconds,
            [Metrics.WriteRate] = result.Rate,
            [Metrics.RelayRate] = published / seconds,
            [Metrics.Backlog] = written - received.Count(r => r is { StatusCode: 200, Duplicate: false }),
        };
        measurement.AddResources(metrics, usage!, exported);
        measurement.Runs.Add(metrics);
        context.Log($"{measurement.Key} run {run + 1}: exported {metrics[Metrics.Rate]:N0}/s, written {result.Rate:N0}/s, "
            + $"published {metrics[Metrics.RelayRate]:N0}/s, backlog {metrics[Metrics.Backlog]:N0}; {usage!.TopThreads()}");
    }
}
