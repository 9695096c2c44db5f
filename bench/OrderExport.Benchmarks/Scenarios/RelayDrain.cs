using System.Diagnostics;
using System.Globalization;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// How fast the relay (default settings, consumer off) empties a backlog: the rows are committed
/// at once while the relay idles, the commit wakes it (NOTIFY on PostgreSQL, and the in-process
/// signal a local commit would send), and the clock runs until no unpublished row is left.
/// Afterwards the broker must hold every record: nothing may have fallen out of its retention.
/// </summary>
internal static class RelayDrain
{
    // Whether any row is still unpublished: stops at the first one. A COUNT(*) read every unpublished
    // row (100,000 at the start) every 20 ms, CPU the database then did not give the relay.
    private const string AnyUnpublished =
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM outbox_messages WHERE published_at IS NULL) THEN 1 ELSE 0 END";

    /// <summary>Key of the drain measurement: <paramref name="loops"/> 1 leaves Outbox:Concurrency at the service's default; others set it.</summary>
    public static string Key(DatabaseProvider provider, int loops = 1) =>
        $"drain.{BenchContext.Tag(provider)}" + (loops == 1 ? "" : $".loops{loops}");

    public static async Task RunOnceAsync(BenchContext context, int run, DatabaseProvider provider, int loops = 1)
    {
        var options = context.Options;
        var history = options.DrainHistory > 0 ? $" behind {options.DrainHistory:N0} published rows (analysed)" : "";
        var relay = loops == 1 ? "" : $", {loops} relay loops (Outbox:Concurrency={loops})";
        var measurement = context.Measure(
            Key(provider, loops), "Pipeline",
            $"Relay drain of {options.DrainRows:N0} seeded outbox rows{history}, {BenchContext.Label(provider)}{relay}", "events/s");
        measurement.Notes["partitions"] = options.DrainPartitions.ToString(CultureInfo.InvariantCulture);

        await using var database = await context.NewDatabaseAsync(provider);
        if (options.DrainHistory > 0)
        {
            // The schema first: a host creates it.
            var schemaOnly = ServiceHost.Settings(database, options);
            schemaOnly["Outbox:RelayEnabled"] = "false";
            schemaOnly["Consumer:Enabled"] = "false";
            await (await ServiceHost.StartAsync(schemaOnly)).DisposeAsync();
            await OutboxSeeder.WriteHistoryAsync(database, options.DrainHistory);
        }

        var settings = ServiceHost.Settings(database, options, partitions: options.DrainPartitions);
        settings["Consumer:Enabled"] = "false";
        if (loops != 1)
        {
            settings["Outbox:Concurrency"] = loops.ToString(CultureInfo.InvariantCulture);
        }

        await using var host = await ServiceHost.StartAsync(settings);
        // More instances relaying the same table (PostgreSQL: FOR UPDATE SKIP LOCKED), on the same broker.
        var others = new List<ServiceHost>();
        for (var i = 1; i < (provider == DatabaseProvider.Postgres ? options.Relays : 1); i++)
        {
            var other = ServiceHost.Settings(database, options, host.Kafka.BootstrapServers, options.DrainPartitions);
            other["Consumer:Enabled"] = "false";
            others.Add(await ServiceHost.StartAsync(other));
        }

        measurement.Notes["relaying instances"] = (others.Count + 1).ToString(CultureInfo.InvariantCulture);
        var rows = OutboxSeeder.Rows(options.DrainRows);
        measurement.Notes["record bytes"] = rows[0].Payload.Length.ToString(CultureInfo.InvariantCulture);
        await Task.Delay(500);

        var (connection, transaction) = await OutboxSeeder.WriteUncommittedAsync(database, rows);
        await using (connection)
        await using (transaction)
        {
            await using var meter = ResourceMeter.Start(options.PostgresData);
            var start = Stopwatch.GetTimestamp();
            await transaction.CommitAsync();
            host.Signal.Notify();
            others.ForEach(o => o.Signal.Notify());

            var deadline = TimeSpan.FromMinutes(3);
            while (await database.ScalarAsync<long>(AnyUnpublished) > 0)
            {
                if (Stopwatch.GetElapsedTime(start) > deadline)
                {
                    throw new TimeoutException($"The relay did not drain {rows.Length} rows within {deadline}");
                }

                await Task.Delay(20);
            }

            var elapsed = Stopwatch.GetElapsedTime(start);
            var usage = await meter.StopAsync();
            var lost = Brokers.LostRecords(host.Kafka.BootstrapServers, host.Topic, options.DrainPartitions, rows.Length);
            var metrics = new Dictionary<string, double>
            {
                [Metrics.Rate] = rows.Length / elapsed.TotalSeconds,
                [Metrics.Lost] = lost,
            };
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }

            measurement.AddResources(metrics, usage, rows.Length);
            measurement.Runs.Add(metrics);
            context.Log($"{measurement.Key} run {run + 1}: {metrics[Metrics.Rate]:N0} events/s ({elapsed.TotalSeconds:0.00} s), lost {lost}; {usage.TopThreads()}");
        }
    }
}
