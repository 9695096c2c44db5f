using System.Globalization;
using System.Text;
using OrderExport.Benchmarks.Scenarios;

namespace OrderExport.Benchmarks.Reporting;

/// <summary>The results as Markdown: printed at the end of the run and written to docs/benchmarks.md.</summary>
internal static class Report
{
    public static string Render(BenchContext context, IReadOnlyList<(string Name, string Value)> facts, string loadAtEnd, TimeSpan duration)
    {
        var options = context.Options;
        var md = new StringBuilder();
        md.AppendLine("# Export pipeline benchmarks").AppendLine();
        md.AppendLine(Invariant($"Written by `eng/bench.sh{(options.Quick ? " --quick" : "")}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC in {duration.TotalMinutes:0.0} min. "));
        md.AppendLine(options.Quick
            ? "**Quick smoke run: one short run per measurement; do not quote these numbers.** "
            : Invariant($"Every number is the **median of {options.Runs} independent runs** (fresh database, broker and service host each), measured in one process on one machine; "));
        md.AppendLine("[brackets] give the lowest and highest run. Everything here was measured by this run; nothing is estimated. "
            + "How each number is taken: [Method](#method). The machine: [Environment](#environment).").AppendLine();

        Throughput(md, context);
        LatencyTable(md, context);
        Cost(md, context);
        Targets(md, context);
        var limits = Limits.Explain(context).ToList();
        if (limits.Count > 0)
        {
            md.AppendLine("## What sets the pace").AppendLine();
            limits.ForEach(l => md.AppendLine($"- {l}"));
            md.AppendLine();
        }

        md.AppendLine("## Environment").AppendLine();
        md.AppendLine("| | |").AppendLine("|---|---|");
        foreach (var (name, value) in facts)
        {
            md.AppendLine($"| {name} | {value.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        md.AppendLine($"| Load average at end | {loadAtEnd} |").AppendLine();
        md.AppendLine(Method.Text(options));
        return md.ToString();
    }

    private static void Throughput(StringBuilder md, BenchContext context)
    {
        var rows = context.Results.Where(m => m.Section is "Baselines" or "Pipeline").ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine("## Throughput").AppendLine();
        md.AppendLine("| | Measurement | Median | [min – max] | Details (medians) |").AppendLine("|---|---|---:|---|---|");
        foreach (var m in rows)
        {
            var (min, max) = m.Spread(Metrics.Rate);
            md.AppendLine(Invariant($"| {m.Section} | {m.Name} | **{m[Metrics.Rate]:N0}** {m.Unit} | [{min:N0} – {max:N0}] | {Details(m)} |"));
        }

        md.AppendLine();
    }

    private static string Details(Measurement m)
    {
        var details = new List<string>();
        if (m.Has(Metrics.WriteRate))
        {
            details.Add(Invariant($"written {m[Metrics.WriteRate]:N0}/s, relayed {m[Metrics.RelayRate]:N0}/s, exported {m[Metrics.Rate]:N0}/s; unexported at the end {m[Metrics.Backlog]:N0}"));
        }

        if (m.Has(Metrics.MeanWriteMs))
        {
            details.Add(Invariant($"{m[Metrics.MeanWriteMs]:0.0} ms per write"));
        }

        if (m.Has(Metrics.MeanCallMs))
        {
            details.Add(Invariant($"{m[Metrics.MeanCallMs]:0.00} ms per call"));
        }

        if (m.Has(Metrics.MeanRecordMs))
        {
            details.Add(Invariant($"{m[Metrics.MeanRecordMs]:0.00} ms of wall time per record, {new OrderExport.Messaging.KafkaOptions().Partitions} partitions handled side by side"));
        }

        if (m.Has(Metrics.DbMsPerRecord))
        {
            details.Add(Invariant($"{m[Metrics.DbMsPerRecord]:0.00} ms of database round trips per record (summed over the workers)"));
        }

        if (m.Has(Metrics.DbShare))
        {
            details.Add(Invariant($"{m[Metrics.DbShare] * 100:0}% of it waiting on the database, the rest EF Core and service code"));
        }

        if (m.Has(Metrics.Lost))
        {
            details.Add(Invariant($"records lost by the broker: {m.Runs.Max(r => r[Metrics.Lost]):0}"));
        }

        details.AddRange(m.Notes.Select(n => $"{n.Key} {n.Value}"));
        return string.Join("; ", details);
    }

    private static void LatencyTable(StringBuilder md, BenchContext context)
    {
        var rows = context.Results.Where(m => m.Section == "Latency").ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine("## Latency (open loop, from the intended send time)").AppendLine();
        md.AppendLine("Milliseconds, p50 / p95 / p99. *send→ack* and *send→platform* start at the order's intended send time "
            + "and so include the commit itself; *commit→ack* starts when SaveChanges returned.").AppendLine();
        md.AppendLine("| Delivery | Load | send→ack | commit→ack | send→platform | send→commit p50 | not completed | generator lag p99 |")
            .AppendLine("|---|---|---|---|---|---:|---:|---:|");
        foreach (var m in rows)
        {
            var comma = m.Name.LastIndexOf(',');
            md.Append(Invariant($"| {m.Name[..comma]} | {m.Name[(comma + 2)..]}, {m[Metrics.AchievedRate]:N0} orders/s | "))
                .Append(Invariant($"{Triple(m, "send_ack")} | {Triple(m, "commit_ack")} | {Triple(m, "send_platform")} | {m["send_commit_p50"]:0.0} | "))
                .AppendLine(Invariant($"{m.Runs.Sum(r => r[Metrics.Incomplete]):0} | {m[Metrics.GeneratorLagP99]:0.00} |"));
        }

        md.AppendLine();
    }

    private static string Triple(Measurement m, string path) =>
        Invariant($"{m[Metrics.Latency(path, 50)]:0.0} / {m[Metrics.Latency(path, 95)]:0.0} / {m[Metrics.Latency(path, 99)]:0.0}");

    private static void Cost(StringBuilder md, BenchContext context)
    {
        var rows = context.Results.Where(m => m.Has(Metrics.ProcessCpuPer1k)).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine("## Cost").AppendLine();
        md.AppendLine("CPU-seconds per 1,000 orders (records for the broker-only rows) over the measurement window; *process* is this "
            + "whole process (service, harness, in-process broker), *PostgreSQL* its server processes. Peak working set is sampled "
            + "every 50 ms within the window. Machine busy is all cores, everyone's load included. Threads: busiest thread names "
            + "of the last run, in % of one core.").AppendLine();
        md.AppendLine("| Measurement | process CPU-s / 1k | PostgreSQL CPU-s / 1k | peak working set | machine busy | busiest threads |")
            .AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var m in rows)
        {
            md.Append(Invariant($"| {m.Name} | {m[Metrics.ProcessCpuPer1k]:0.000} | {m[Metrics.PostgresCpuPer1k]:0.000} | "))
                .AppendLine(Invariant($"{m[Metrics.PeakWorkingSet]:N0} MiB | {m[Metrics.MachineBusy]:0} % | {m.Threads} |"));
        }

        md.AppendLine();
    }

    private static void Targets(StringBuilder md, BenchContext context)
    {
        var targets = TargetCheck.Evaluate(context).ToList();
        if (targets.Count == 0)
        {
            return;
        }

        md.AppendLine("## Targets").AppendLine();
        md.AppendLine("| Target | Measured | Met |").AppendLine("|---|---|---|");
        foreach (var (target, measured, met) in targets)
        {
            md.AppendLine($"| {target} | {measured} | {(met ? "yes" : "**no**")} |");
        }

        md.AppendLine();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
