using System.Diagnostics;
using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Fault 6: PostgreSQL unreachable for several seconds, twice: once refusing connections, once
/// as a black hole that accepts and never answers. The service reaches its database through a
/// TCP proxy; the audit reads the database directly.
/// </summary>
public sealed class DatabaseOutageTests(KafkaTestBroker broker)
{
    private const int Orders = 500;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task DatabaseUnreachable_ApiAnswers503ProblemDetails_RelayAndConsumerResume_NothingIsLost()
    {
        await using var rig = await ReliabilityRig.CreateAsync(broker, databaseProxy: true);
        var proxy = rig.Proxy!;
        var (app, http) = rig.StartApp();
        var workload = new OrderWorkload(concurrency: 8, reExportEvery: 5);
        var sending = workload.RunAsync(http, Orders, perSecond: 40);
        var outages = new List<string>();

        foreach (var (mode, share) in new[] { (TcpProxy.CutMode.Refuse, 0.3), (TcpProxy.CutMode.Hold, 0.9) })
        {
            await Eventually.Until(() => Task.FromResult(workload.Confirmed), n => n >= Orders * share, TimeSpan.FromSeconds(90));
            var unavailableBefore = workload.Unavailable;
            proxy.Cut(mode);
            var cut = Stopwatch.StartNew();
            await Task.Delay(Outage, TestContext.Current.CancellationToken);
            var refused = workload.Unavailable - unavailableBefore;
            refused.ShouldBeGreaterThan(0, $"clients must have been turned away during the {mode} outage");
            proxy.Restore();
            outages.Add($"{(mode == TcpProxy.CutMode.Refuse ? "refusing connections" : "black hole (connects hang)")} {cut.Elapsed.TotalSeconds:0.0} s");
        }

        var restored = Stopwatch.StartNew();
        await sending;
        await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));
        var drain = restored.Elapsed;

        var audit = await rig.AuditAsync();
        // After the outages the service still stops promptly and cleanly (regression guard for K1:
        // the LISTEN loop used to hang or throw ObjectDisposedException out of the host's stop).
        var stop = await rig.StopAppAsync(app);
        stop.ShouldBeLessThan(TimeSpan.FromSeconds(4.5), "every hosted service honours its stopping token after the outage");
        workload.ShouldHaveHadOnlyExpectedAnswers();
        // The consumer may have called the platform and then failed to record it: every record in flight, per outage.
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, maxPlatformDuplicateCalls: outages.Count * rig.RecordsInFlight);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S6",
            "Database unreachable",
            nameof(DatabaseUnreachable_ApiAnswers503ProblemDetails_RelayAndConsumerResume_NothingIsLost),
            $"PostgreSQL cut off twice while orders flow: {string.Join("; then ", outages)}; "
                + $"the API answered {workload.Unavailable} requests with 503 database-unavailable (all retried by the client)") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"the drain is timed from the end of the second outage, while the clients finish their remaining orders; service stopped in {stop.TotalSeconds:0.0} s afterwards",
        });
    }
}
