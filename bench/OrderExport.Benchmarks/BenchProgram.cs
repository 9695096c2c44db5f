using System.Diagnostics;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Benchmarks.Scenarios;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks;

/// <summary>
/// eng/bench.sh's harness: the export pipeline measured against its limits (see docs/benchmarks.md).
/// Arguments:
/// <list type="bullet">
/// <item><c>--quick</c>: one short run per measurement, report in artifacts/bench/benchmarks-quick.md</item>
/// <item><c>--only produce,db,direct,e2e,drain,platform,consumer,latency</c>: a subset (latency needs e2e or <c>--max-rate N</c>)</item>
/// <item><c>--runs N</c>, <c>--writers N</c>, <c>--window SECONDS</c>, <c>--out PATH</c></item>
/// <item><c>--set Section:Key=Value</c>: configuration for every service host, e.g. Outbox:BatchSize=2000</item>
/// <item>experiments: <c>--drain-rows N</c>, <c>--drain-partitions N</c>, <c>--drain-history N</c> (published rows
/// with fresh statistics before the backlog), <c>--relays N</c> and <c>--consumers N</c> (service instances),
/// <c>--consumer-backlog N</c> (records the consumer stage drains)</item>
/// </list>
/// </summary>
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        var options = BenchOptions.Parse(args);
        var context = new BenchContext(options);
        var clock = Stopwatch.StartNew();
        context.Log($"{(options.Quick ? "quick smoke run" : $"{options.Runs} runs per measurement")}; "
            + $"PostgreSQL: {(context.HasPostgres ? "yes" : "no (SQLite only; run eng/bench.sh)")}; load average {MachineFacts.LoadAverage()}");
        var facts = await MachineFacts.CollectAsync(context);
        try
        {
            for (var run = 0; run < options.Runs; run++)
            {
                context.Log($"throughput round {run + 1} of {options.Runs}");
                foreach (var scenario in ThroughputScenarios(context))
                {
                    await scenario(run);
                }
            }

            if (options.Includes("latency"))
            {
                var maxRate = options.MaxRate ?? context.Find("e2e.pg")?[Metrics.Rate] ?? context.Find("e2e.sqlite")?[Metrics.Rate]
                    ?? throw new InvalidOperationException("Latency needs the end-to-end throughput: run e2e too, or pass --max-rate.");
                context.Log($"latency at 10% and 50% of {maxRate:N0} orders/s");
                for (var run = 0; run < options.Runs; run++)
                {
                    foreach (var fraction in new[] { 0.1, 0.5 })
                    {
                        // The linger comparison at 10% load only: it explains the default, it is not a target.
                        foreach (var delivery in Enum.GetValues<Delivery>().Where(d => fraction == 0.1 || d < Delivery.RelayLinger5))
                        {
                            await Latency.RunOnceAsync(context, run, delivery, fraction, maxRate);
                        }
                    }
                }
            }
        }
        finally
        {
            if (Directory.Exists(context.SqliteFolder))
            {
                Directory.Delete(context.SqliteFolder, recursive: true);
            }
        }

        var report = Report.Render(context, facts, MachineFacts.LoadAverage(), clock.Elapsed);
        Console.WriteLine(report);
        var output = Path.GetFullPath(options.OutputPath);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report);
        context.Log($"wrote {output} after {clock.Elapsed:mm\\:ss}");
        return 0;
    }

    /// <summary>One run of every throughput measurement, in the order they are reported.</summary>
    private static IEnumerable<Func<int, Task>> ThroughputScenarios(BenchContext context)
    {
        var options = context.Options;
        if (options.Includes("produce"))
        {
            yield return run => RawProduce.RunOnceAsync(context, run);
        }

        foreach (var provider in context.Providers())
        {
            if (options.Includes("db"))
            {
                yield return run => DatabaseWrite.RunOnceAsync(context, run, provider);
                if (provider == DatabaseProvider.Postgres)
                {
                    yield return run => DatabaseWrite.RunOnceAsync(context, run, provider, synchronousCommit: true);
                }
            }
        }

        if (options.Includes("direct"))
        {
            yield return run => DirectPublish.RunOnceAsync(context, run, context.Providers().First());
        }

        foreach (var provider in context.Providers())
        {
            if (options.Includes("e2e"))
            {
                yield return run => EndToEnd.RunOnceAsync(context, run, provider);
            }
        }

        foreach (var provider in context.Providers())
        {
            if (options.Includes("drain"))
            {
                yield return run => RelayDrain.RunOnceAsync(context, run, provider);
                if (provider == DatabaseProvider.Postgres)
                {
                    yield return run => RelayDrain.RunOnceAsync(context, run, provider, loops: 4);
                }
            }
        }

        if (options.Includes("platform"))
        {
            // Side by side: the fake platform alone, and the service's client calling it.
            yield return run => PlatformCalls.RunOnceAsync(context, run, context.Providers().First(), throughClient: false);
            yield return run => PlatformCalls.RunOnceAsync(context, run, context.Providers().First(), throughClient: true);
        }

        if (options.Includes("consumer"))
        {
            yield return run => ConsumerDrain.RunOnceAsync(context, run, context.Providers().First());
            // Side by side: what key-ordered concurrency buys, against strict offset order.
            yield return run => ConsumerDrain.RunOnceAsync(context, run, context.Providers().First(), inFlight: 1);
        }
    }
}
