using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>How the record gets from the commit to the broker.</summary>
internal enum Delivery
{
    /// <summary>The relay as configured by default: in-process signal, LISTEN/NOTIFY, 1 s poll.</summary>
    RelayDefault,

    /// <summary>The relay waking only by its poll: no LISTEN, and the writes come from another host so its in-process signal never reaches the relay.</summary>
    RelayPolling,

    /// <summary>The Spring sample: commit, then publish directly (no outbox).</summary>
    DirectPublish,

    /// <summary>The relay with the producer lingering 5 ms (librdkafka's default), for comparison.</summary>
    RelayLinger5,

    /// <summary>The direct publish with the producer lingering 5 ms, the baseline of <see cref="RelayLinger5"/>.</summary>
    DirectPublishLinger5,
}

/// <summary>
/// Latency under an open-loop load: orders are confirmed at fixed intended times (a rate that is
/// a fraction of the measured maximum), whatever earlier ones are doing, and every latency is
/// measured from the intended send time. Broker ack: the outbox row's published_at (the relay
/// stamps it after the whole batch was acknowledged) or, for the direct publish, the moment the
/// delivery report completed the ProduceAsync task. Platform call: the fake platform's
/// receive time of the order's first export.
/// </summary>
internal static class Latency
{
    public static string Key(Delivery delivery, double fraction) =>
        $"latency.{delivery.ToString().ToLowerInvariant()}.{fraction * 100:0}";

    public static async Task RunOnceAsync(BenchContext context, int run, Delivery delivery, double fraction, double maxRate)
    {
        var options = context.Options;
        var rate = Math.Max(1, fraction * maxRate);
        var name = delivery switch
        {
            Delivery.RelayDefault => "Relay, default configuration",
            Delivery.RelayPolling => "Relay, polling only (1 s)",
            Delivery.RelayLinger5 => "Relay, default configuration but linger.ms=5",
            Delivery.DirectPublishLinger5 => "Direct publish after commit, linger.ms=5",
            _ => "Direct publish after commit (Spring sample)",
        };
        var direct = delivery is Delivery.DirectPublish or Delivery.DirectPublishLinger5;
        var measurement = context.Measure(Key(delivery, fraction), "Latency", $"{name}, {fraction * 100:0}% load", "ms");
        measurement.Notes["rate"] = rate.ToString("0", CultureInfo.InvariantCulture);

        await using var database = await context.NewDatabaseAsync(context.HasPostgres ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite);
        var settings = ServiceHost.Settings(database, options);
        if (delivery == Delivery.RelayPolling)
        {
            settings["Outbox:ListenForNotifications"] = "false";
        }
        else if (direct)
        {
            settings["Outbox:RelayEnabled"] = "false";
        }

        if (delivery is Delivery.RelayLinger5 or Delivery.DirectPublishLinger5)
        {
            settings["Kafka:Producer:LingerMs"] = "5";
        }

        await using var host = await ServiceHost.StartAsync(settings);
        ServiceHost? writerHost = null;
        if (delivery == Delivery.RelayPolling)
        {
            var writerSettings = ServiceHost.Settings(database, options, host.Kafka.BootstrapServers);
            writerSettings["Outbox:RelayEnabled"] = "false";
            writerSettings["Consumer:Enabled"] = "false";
            writerHost = await ServiceHost.StartAsync(writerSettings);
        }

        await using var _ = writerHost;
        var withoutInterceptor = OrderWrites.WithoutInterceptor(database);
        var samples = new ConcurrentDictionary<Guid, Sample>();
        async Task Send(DateTime intendedUtc)
        {
            if (direct)
            {
                var (orderId, committed, ack) = await OrderWrites.CommitThenPublishAsync(withoutInterceptor, host.Producer.Producer, host.Topic);
                await ack;
                samples[orderId] = new Sample(intendedUtc, committed, DateTime.UtcNow);
            }
            else
            {
                var orderId = await OrderWrites.ConfirmAsync((writerHost ?? host).Services);
                samples[orderId] = new Sample(intendedUtc, DateTime.UtcNow, null);
            }
        }

        await host.WaitUntilFlowingAsync(() => Send(DateTime.UtcNow));
        var warmUp = await LoadGenerators.OpenLoopAsync(rate, options.LatencyWarmUp, Send);
        await Task.WhenAll(warmUp.Select(s => s.Send));
        var warmUpOrders = samples.Keys.ToHashSet();

        var window = TimeSpan.FromSeconds(Math.Clamp(
            options.LatencySamples / rate, options.LatencyMinWindow.TotalSeconds, options.LatencyMaxWindow.TotalSeconds));
        var meter = ResourceMeter.Start(options.PostgresData);
        var sends = await LoadGenerators.OpenLoopAsync(rate, window, Send);
        await Task.WhenAll(sends.Select(s => s.Send));
        var usage = await meter.StopAsync();
        await meter.DisposeAsync();

        var measured = samples.Where(s => !warmUpOrders.Contains(s.Key)).ToDictionary(s => s.Key, s => s.Value);
        var exportedAt = await WaitForExportsAsync(host, measured.Keys, TimeSpan.FromSeconds(20));
        var publishedAt = direct ? null : await database.PublishedAtByOrderAsync();

        var paths = Metrics.LatencyPaths.ToDictionary(p => p, _ => new List<double>());
        var incomplete = 0;
        foreach (var (orderId, sample) in measured)
        {
            DateTime? ack = sample.AckUtc ?? (publishedAt is not null && publishedAt.TryGetValue(orderId, out var p) ? p : null);
            DateTime? platform = exportedAt.TryGetValue(orderId, out var e) ? e : null;
            paths["send_commit"].Add((sample.CommittedUtc - sample.IntendedUtc).TotalMilliseconds);
            if (ack is null || platform is null)
            {
                incomplete++;
                continue;
            }

            paths["send_ack"].Add((ack.Value - sample.IntendedUtc).TotalMilliseconds);
            paths["commit_ack"].Add((ack.Value - sample.CommittedUtc).TotalMilliseconds);
            paths["send_platform"].Add((platform.Value - sample.IntendedUtc).TotalMilliseconds);
        }

        var metrics = new Dictionary<string, double>
        {
            [Metrics.AchievedRate] = measured.Count / window.TotalSeconds,
            [Metrics.Incomplete] = incomplete + (sends.Count - measured.Count),
            [Metrics.GeneratorLagP99] = Stats.Percentile([.. sends.Select(s => s.LagMs)], 99),
        };
        foreach (var (path, values) in paths)
        {
            foreach (var percentile in Metrics.Percentiles)
            {
                metrics[Metrics.Latency(path, percentile)] = Stats.Percentile(values, percentile);
            }
        }

        measurement.AddResources(metrics, usage, measured.Count);
        measurement.Runs.Add(metrics);
        context.Log($"{measurement.Key} run {run + 1} at {rate:0}/s for {window.TotalSeconds:0}s: "
            + $"send→ack p50/p99 {metrics["send_ack_p50"]:0.0}/{metrics["send_ack_p99"]:0.0} ms, "
            + $"commit→ack {metrics["commit_ack_p50"]:0.0}/{metrics["commit_ack_p99"]:0.0}, "
            + $"send→platform {metrics["send_platform_p50"]:0.0}/{metrics["send_platform_p99"]:0.0}, incomplete {metrics[Metrics.Incomplete]}");
    }

    /// <summary>When the fake platform first accepted each of these orders; waits until all were, or the timeout.</summary>
    private static async Task<Dictionary<Guid, DateTime>> WaitForExportsAsync(ServiceHost host, ICollection<Guid> orders, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var accepted = host.Platform.Received
                .Where(r => r is { StatusCode: 200, Duplicate: false })
                .GroupBy(r => r.OrderId)
                .ToDictionary(g => g.Key, g => g.Min(r => r.ReceivedAt.UtcDateTime));
            if (orders.All(accepted.ContainsKey) || Stopwatch.GetElapsedTime(started) > timeout)
            {
                return accepted;
            }

            await Task.Delay(100);
        }
    }

    private sealed record Sample(DateTime IntendedUtc, DateTime CommittedUtc, DateTime? AckUtc);
}
