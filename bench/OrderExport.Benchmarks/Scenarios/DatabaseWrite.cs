using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// Baseline: the service's own write path with nothing else running (Outbox:RelayEnabled=false,
/// Consumer:Enabled=false), N closed-loop writers. One operation is what the endpoints do for an
/// order: the create command, then the confirm command whose save writes the order change and its
/// outbox row in one transaction (<see cref="OrderWrites.ConfirmAsync"/>). An EF Core interceptor
/// adds up the time spent waiting on the database, to split EF Core and Mediator from SQL.
/// </summary>
internal static class DatabaseWrite
{
    public static async Task RunOnceAsync(BenchContext context, int run, DatabaseProvider provider, bool synchronousCommit = false)
    {
        var options = context.Options;
        var key = $"db.{BenchContext.Tag(provider)}{(synchronousCommit ? ".sync" : "")}";
        var name = $"Raw database write: order + outbox row, {BenchContext.Label(provider)}{(synchronousCommit ? " (synchronous_commit=on)" : "")}";
        var measurement = context.Measure(key, "Baselines", name, "orders/s");
        measurement.Notes["writers"] = options.Writers.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await using var database = await context.NewDatabaseAsync(provider, synchronousCommit);
        var settings = ServiceHost.Settings(database, options);
        settings["Outbox:RelayEnabled"] = "false";
        settings["Consumer:Enabled"] = "false";
        var timer = new SqlTimer();
        await using var host = await ServiceHost.StartAsync(settings,
            services => services.ConfigureDbContext<OrderExportDbContext>(o => o.AddInterceptors(timer)));

        ResourceMeter? meter = null;
        ResourceUsage? usage = null;
        var dbTime = TimeSpan.Zero;
        var result = await LoadGenerators.ClosedLoopAsync(
            options.Writers, options.WarmUp, options.Window,
            () => OrderWrites.ConfirmAsync(host.Services),
            onWindowStart: () =>
            {
                timer.Reset();
                meter = ResourceMeter.Start(options.PostgresData);
                return Task.CompletedTask;
            },
            onWindowEnd: async () =>
            {
                dbTime = timer.Total;
                usage = await meter!.StopAsync();
            });
        await meter!.DisposeAsync();

        var metrics = new Dictionary<string, double>
        {
            [Metrics.Rate] = result.Rate,
            [Metrics.MeanWriteMs] = result.MeanMs,
            // Database time per write over wall time per write (both summed over the window's writes).
            [Metrics.DbShare] = dbTime.TotalMilliseconds / result.DurationsMs.Sum(),
        };
        measurement.AddResources(metrics, usage!, result.DurationsMs.Count);
        measurement.Runs.Add(metrics);
        context.Log($"{key} run {run + 1}: {result.Rate:N0} orders/s, {result.MeanMs:0.00} ms/write, db {metrics[Metrics.DbShare] * 100:0}%, failures {result.Failures}");
    }
}
