using System.Globalization;
using OrderExport.Benchmarks.Scenarios;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Reporting;

/// <summary>The issue's targets, as ratios of numbers measured in this very run.</summary>
internal static class TargetCheck
{
    public static IEnumerable<(string Target, string Measured, bool Met)> Evaluate(BenchContext context)
    {
        foreach (var tag in new[] { "pg", "sqlite" })
        {
            if (context.Find($"e2e.{tag}") is { } e2e && context.Find($"db.{tag}") is { } db)
            {
                var ratio = e2e[Metrics.Rate] / db[Metrics.Rate];
                var measured = Invariant($"{e2e[Metrics.Rate]:N0} / {db[Metrics.Rate]:N0} orders/s = {ratio:0.00}×");
                var label = tag == "pg" ? "PostgreSQL" : "SQLite";
                yield return ($"End-to-end throughput ≥ 0.5 × raw database rate ({label}; issue 15's floor)", measured, ratio >= 0.5);
                yield return ($"End-to-end throughput ≥ 0.8 × raw database rate ({label}; aim)", measured, ratio >= 0.8);
            }
        }

        // Issue 15's floors (and aims): the consumer stage alone at least the raw write rate; at most 2.5 CPU-ms per exported order.
        if (context.Find("db.pg") is { } write)
        {
            foreach (var (key, label) in new[] { ("consumer.pg", "default settings"), ("consumer.pg.inflight1", "strict offset order, Consumer:MaxInFlightPerPartition=1") })
            {
                if (context.Find(key) is { } consumer)
                {
                    var ratio = consumer[Metrics.Rate] / write[Metrics.Rate];
                    yield return ($"Consumer stage alone ≥ 1.0 × raw database rate (PostgreSQL, {label})",
                        Invariant($"{consumer[Metrics.Rate]:N0} / {write[Metrics.Rate]:N0} orders/s = {ratio:0.00}×"), ratio >= 1.0);
                }
            }
        }

        if (context.Find("e2e.pg") is { } pipeline)
        {
            var cpu = pipeline[Metrics.ProcessCpuPer1k] + pipeline[Metrics.PostgresCpuPer1k];
            var measured = Invariant($"{cpu:0.0} ({pipeline[Metrics.ProcessCpuPer1k]:0.0} + {pipeline[Metrics.PostgresCpuPer1k]:0.0})");
            yield return ("CPU-ms per exported order ≤ 2.5 (process + PostgreSQL, end to end; floor)", measured, cpu <= 2.5);
            yield return ("CPU-ms per exported order ≤ 1.5 (aim)", measured, cpu <= 1.5);
        }

        if (context.Find("drain.pg") is { } drain)
        {
            var produce = context.Find("produce");
            var fraction = produce is null ? "" : Invariant($"; {(drain[Metrics.Rate] / produce[Metrics.Rate]) * 100:0}% of the raw produce rate ({produce[Metrics.Rate]:N0}/s)");
            yield return ("Relay drain ≥ 20,000 events/s on PostgreSQL", Invariant($"{drain[Metrics.Rate]:N0} events/s{fraction}"), drain[Metrics.Rate] >= 20_000);
            yield return ("Relay drain ≥ 50,000 events/s on PostgreSQL, default settings (issue 15's floor)", Invariant($"{drain[Metrics.Rate]:N0} events/s"), drain[Metrics.Rate] >= 50_000);
            if (context.Find(RelayDrain.Key(DatabaseProvider.Postgres, loops: 4)) is { } loops)
            {
                yield return ("Relay drain ≥ 20,000 events/s on PostgreSQL, with Outbox:Concurrency=4",
                    Invariant($"{loops[Metrics.Rate]:N0} events/s"), loops[Metrics.Rate] >= 20_000);
            }
        }

        foreach (var fraction in new[] { 0.1, 0.5 })
        {
            var relay = context.Find(Latency.Key(Delivery.RelayDefault, fraction));
            if (relay is null)
            {
                continue;
            }

            // As the issue states them: from the commit (SaveChanges returned) to the broker's ack.
            if (fraction == 0.1)
            {
                yield return ("commit→ack p50 ≤ 5 ms at 10% load (relay, default configuration)",
                    Invariant($"{relay["commit_ack_p50"]:0.0} ms (from the intended send, commit included: {relay["send_ack_p50"]:0.0} ms)"), relay["commit_ack_p50"] <= 5);
                yield return ("commit→ack p99 ≤ 20 ms at 10% load (relay, default configuration)",
                    Invariant($"{relay["commit_ack_p99"]:0.0} ms (from the intended send: {relay["send_ack_p99"]:0.0} ms)"), relay["commit_ack_p99"] <= 20);
            }

            if (context.Find(Latency.Key(Delivery.DirectPublish, fraction)) is { } direct)
            {
                var p50 = relay["commit_ack_p50"] / direct["commit_ack_p50"];
                var p99 = relay["commit_ack_p99"] / direct["commit_ack_p99"];
                yield return (Invariant($"commit→ack p50 ≤ 2× direct publish at {fraction * 100:0}% load"),
                    Invariant($"{relay["commit_ack_p50"]:0.0} vs {direct["commit_ack_p50"]:0.0} ms = {p50:0.00}×"), p50 <= 2);
                yield return (Invariant($"commit→ack p99 ≤ 3× direct publish at {fraction * 100:0}% load"),
                    Invariant($"{relay["commit_ack_p99"]:0.0} vs {direct["commit_ack_p99"]:0.0} ms = {p99:0.00}×"), p99 <= 3);
            }
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
