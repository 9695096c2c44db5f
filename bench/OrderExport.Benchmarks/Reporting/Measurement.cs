using OrderExport.Benchmarks.Infrastructure;

namespace OrderExport.Benchmarks.Reporting;

/// <summary>
/// One line of the results: a named measurement with one set of metrics per run. Every number
/// reported is the median over the runs; the spread (min..max of the main metric) goes along.
/// </summary>
internal sealed class Measurement(string key, string section, string name, string unit)
{
    public string Key { get; } = key;

    public string Section { get; } = section;

    public string Name { get; } = name;

    /// <summary>Unit of <see cref="Metrics.Rate"/>, the main number of a throughput line.</summary>
    public string Unit { get; } = unit;

    public List<Dictionary<string, double>> Runs { get; } = [];

    /// <summary>Facts about the measurement that do not vary by run (partition count, message size, rate).</summary>
    public Dictionary<string, string> Notes { get; } = [];

    /// <summary>Busiest threads of the last run (name and share of one core), for finding the limit.</summary>
    public string? Threads { get; set; }

    public double this[string metric] => Stats.Median(Runs.Select(r => r.GetValueOrDefault(metric, double.NaN)));

    public bool Has(string metric) => Runs.Any(r => r.ContainsKey(metric));

    public (double Min, double Max) Spread(string metric)
    {
        var values = Runs.Select(r => r.GetValueOrDefault(metric, double.NaN)).Where(v => !double.IsNaN(v)).ToArray();
        return values.Length == 0 ? (double.NaN, double.NaN) : (values.Min(), values.Max());
    }

    public void AddResources(Dictionary<string, double> run, ResourceUsage usage, double orders)
    {
        run[Metrics.ProcessCpuPer1k] = orders > 0 ? usage.ProcessCpuSeconds / orders * 1000 : double.NaN;
        run[Metrics.PostgresCpuPer1k] = orders > 0 ? usage.PostgresCpuSeconds / orders * 1000 : double.NaN;
        run[Metrics.PeakWorkingSet] = usage.PeakWorkingSetMiB;
        run[Metrics.MachineBusy] = usage.MachineBusyPercent;
        Threads = usage.TopThreads();
    }
}

/// <summary>Metric names shared by the scenarios and the report.</summary>
internal static class Metrics
{
    public const string Rate = "rate";
    public const string WriteRate = "write_rate";
    public const string RelayRate = "relay_rate";
    public const string ExportRate = "export_rate";
    public const string Backlog = "backlog";
    public const string MeanWriteMs = "mean_write_ms";
    public const string MeanRecordMs = "mean_record_ms";
    public const string MeanCallMs = "mean_call_ms";

    public const string DbMsPerRecord = "db_ms_per_record";
    public const string DbShare = "db_share";
    public const string Lost = "lost";
    public const string ProcessCpuPer1k = "cpu_s_per_1k";
    public const string PostgresCpuPer1k = "pg_cpu_s_per_1k";
    public const string PeakWorkingSet = "peak_ws_mib";
    public const string MachineBusy = "machine_busy_pct";
    public const string AchievedRate = "achieved_rate";
    public const string Incomplete = "incomplete";
    public const string GeneratorLagP99 = "lag_p99";

    /// <summary>Latency metric name: "{from}_{to}_p{n}", e.g. send_ack_p50.</summary>
    public static string Latency(string path, int percentile) => $"{path}_p{percentile}";

    public static readonly string[] LatencyPaths = ["send_ack", "commit_ack", "send_platform", "send_commit"];

    public static readonly int[] Percentiles = [50, 95, 99];
}
