using System.Diagnostics;
using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// After a database outage the service still stops promptly and cleanly. (It did not while the
/// outbox listener handed the stopping token to Npgsql 10.0.0, whose cancellation registration
/// could belong to a connector it had already cleaned up: npgsql/npgsql#6415, #6568.)
/// </summary>
public sealed class DatabaseOutageShutdownTests(KafkaTestBroker broker)
{
    private const int Orders = 500;

    /// <summary>The race does not hit every run: three attempts make one run of this test likely to show it.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task AfterADatabaseOutage_TheServiceStopsPromptlyAndCleanly(int attempt)
    {
        _ = attempt;
        await using var database = await PostgresDatabase.CreateAsync();
        await using var proxy = TcpProxy.ForPostgres(database.ConnectionString);
        var topics = await broker.CreateTopicsAsync();
        var app = new OrderExportApp(broker, topics, Persistence.DatabaseProvider.Postgres, proxy.Redirect(database.ConnectionString));
        var workload = new OrderWorkload(concurrency: 8);
        var sending = workload.RunAsync(app.Start(), Orders, perSecond: 40);

        foreach (var (mode, share) in new[] { (TcpProxy.CutMode.Refuse, 0.3), (TcpProxy.CutMode.Hold, 0.6), (TcpProxy.CutMode.Refuse, 0.9) })
        {
            await Eventually.Until(() => Task.FromResult(workload.Confirmed), n => n >= Orders * share, TimeSpan.FromSeconds(90));
            proxy.Cut(mode);
            await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
            proxy.Restore();
        }

        await sending;
        await Eventually.Until(() => ExportAudit.ProgressAsync(database.ConnectionString, [app.Platform]),
            p => p.Events > 0 && p.Handled >= p.Events, TimeSpan.FromSeconds(120), "drained");

        var clock = Stopwatch.StartNew();
        await Should.NotThrowAsync(async () => await app.DisposeAsync(), "stopping after the outage");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "every hosted service honours the stopping token");
    }
}
