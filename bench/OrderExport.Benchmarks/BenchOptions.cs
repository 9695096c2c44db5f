using System.Globalization;

namespace OrderExport.Benchmarks;

/// <summary>
/// What one benchmark run measures and for how long. <c>--quick</c> is a smoke run (one run per
/// measurement, short windows, small backlogs); the full run takes the medians of three.
/// </summary>
internal sealed record BenchOptions
{
    public bool Quick { get; init; }

    /// <summary>Independent runs per measurement (fresh database, fresh broker, fresh host each time).</summary>
    public int Runs { get; init; } = 3;

    /// <summary>Concurrent closed-loop writers for the throughput measurements.</summary>
    public int Writers { get; init; } = 8;

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(6);

    public int ProduceMessages { get; init; } = 100_000;

    public int DrainRows { get; init; } = 100_000;

    /// <summary>
    /// Published rows written (and analysed) before the drain's backlog: a table with history, whose
    /// planner statistics say "nothing unpublished" when the backlog arrives. 0: an empty table.
    /// </summary>
    public int DrainHistory { get; init; }

    /// <summary>Partitions of the topic the drain and the raw produce write to (the service default is 3).</summary>
    public int DrainPartitions { get; init; } = 3;

    /// <summary>Service instances relaying the drain's backlog together (PostgreSQL; an experiment knob).</summary>
    public int Relays { get; init; } = 1;

    /// <summary>Service instances consuming in the end-to-end runs (one consumer group; an experiment knob).</summary>
    public int Consumers { get; init; } = 1;

    public int ConsumerBacklog { get; init; } = 3_000;

    public TimeSpan LatencyWarmUp { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Latency windows last long enough for this many samples, within the bounds below.</summary>
    public int LatencySamples { get; init; } = 1_000;

    public TimeSpan LatencyMinWindow { get; init; } = TimeSpan.FromSeconds(6);

    public TimeSpan LatencyMaxWindow { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Open-loop rate for the latency runs when the throughput runs were skipped (--only).</summary>
    public double? MaxRate { get; init; }

    public string OutputPath { get; init; } = "docs/benchmarks.md";

    /// <summary>Admin connection string of the private PostgreSQL (eng/start-postgres.sh).</summary>
    public string? Postgres { get; init; }

    /// <summary>Data folder of that PostgreSQL, to read its processes' CPU time from /proc.</summary>
    public string? PostgresData { get; init; }

    /// <summary>Scenario groups to run (empty: all): produce, db, direct, e2e, drain, platform, consumer, latency.</summary>
    public HashSet<string> Only { get; init; } = [];

    /// <summary>Configuration overrides applied to every hosted service (--set Outbox:BatchSize=2000), for experiments.</summary>
    public Dictionary<string, string?> Overrides { get; init; } = [];

    public string? Commit { get; init; }

    public bool Includes(string group) => Only.Count == 0 || Only.Contains(group);

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions
        {
            Postgres = Environment.GetEnvironmentVariable("ORDEREXPORT_TEST_POSTGRES"),
            PostgresData = Environment.GetEnvironmentVariable("ORDEREXPORT_PG_DATA"),
            Commit = Environment.GetEnvironmentVariable("ORDEREXPORT_BENCH_COMMIT"),
        };
        if (args.Contains("--quick"))
        {
            options = options with
            {
                Quick = true,
                Runs = 1,
                WarmUp = TimeSpan.FromSeconds(1),
                Window = TimeSpan.FromSeconds(2),
                ProduceMessages = 10_000,
                DrainRows = 10_000,
                ConsumerBacklog = 500,
                LatencyWarmUp = TimeSpan.FromSeconds(1),
                LatencySamples = 200,
                LatencyMinWindow = TimeSpan.FromSeconds(2),
                LatencyMaxWindow = TimeSpan.FromSeconds(3),
                // A smoke run never overwrites the real report.
                OutputPath = "artifacts/bench/benchmarks-quick.md",
            };
        }

        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--quick" => options,
                "--runs" => options with { Runs = NextInt() },
                "--writers" => options with { Writers = NextInt() },
                "--window" => options with { Window = TimeSpan.FromSeconds(NextInt()) },
                "--drain-rows" => options with { DrainRows = NextInt() },
                "--drain-partitions" => options with { DrainPartitions = NextInt() },
                "--drain-history" => options with { DrainHistory = NextInt() },
                "--relays" => options with { Relays = NextInt() },
                "--consumers" => options with { Consumers = NextInt() },
                "--consumer-backlog" => options with { ConsumerBacklog = NextInt() },
                "--max-rate" => options with { MaxRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--out" => options with { OutputPath = Next() },
                "--only" => options with { Only = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                "--set" => options with { Overrides = WithOverride(options.Overrides, Next()) },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'. See eng/bench.sh."),
            };
        }

        return options;
    }

    private static Dictionary<string, string?> WithOverride(Dictionary<string, string?> overrides, string setting)
    {
        var equals = setting.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new ArgumentException($"--set expects Key=Value, got '{setting}'");
        }

        return new Dictionary<string, string?>(overrides) { [setting[..equals]] = setting[(equals + 1)..] };
    }
}
