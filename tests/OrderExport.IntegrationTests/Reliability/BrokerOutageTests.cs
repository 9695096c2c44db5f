using System.Diagnostics;
using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>Fault 1: the Kafka broker goes away for several seconds while clients keep confirming orders.</summary>
public sealed class BrokerOutageTests
{
    private const int Orders = 600;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task BrokerDownWhileOrdersAreConfirmed_ConfirmsKeepWorking_AndEveryOrderIsExportedOnceAfterwards()
    {
        // A private cluster: taking the shared broker down would disturb every other test.
        await using var rig = await ReliabilityRig.CreateAsync();
        var (_, http) = rig.StartApp();
        var workload = new OrderWorkload(concurrency: 8, reExportEvery: 5);

        var sending = workload.RunAsync(http, Orders, perSecond: 150);
        await Eventually.Until(() => Task.FromResult(workload.Confirmed), n => n >= Orders / 3, TimeSpan.FromSeconds(60));
        rig.Cluster.BrokerDown();
        var down = Stopwatch.StartNew();
        var sentBeforeOutage = workload.Sent;

        // The API does not need the broker: the rest of the orders are confirmed during the outage.
        await sending;
        var confirmedDuringOutage = workload.Sent - sentBeforeOutage;
        if (Outage - down.Elapsed is { Ticks: > 0 } rest)
        {
            await Task.Delay(rest, TestContext.Current.CancellationToken);
        }

        var stalled = await ExportAudit.ProgressAsync(rig.Database, rig.Platforms);
        stalled.Unpublished.ShouldBeGreaterThan(0, "the outage must really hold events back, or this test proves nothing");
        rig.Cluster.BrokerUp();
        var outage = down.Elapsed;

        var drain = await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));

        var audit = await rig.AuditAsync();
        workload.ShouldHaveHadOnlyExpectedAnswers();
        workload.Unavailable.ShouldBe(0, "confirming does not depend on the broker");
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S1",
            "Kafka broker down while orders are confirmed",
            nameof(BrokerDownWhileOrdersAreConfirmed_ConfirmsKeepWorking_AndEveryOrderIsExportedOnceAfterwards),
            $"the only broker down for {outage.TotalSeconds:0.0} s; {confirmedDuringOutage} orders confirmed meanwhile "
                + $"({stalled.Unpublished} events waiting in the outbox when it came back)") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"every 5th order asks for 2 more exports (sequences 1-3), so per-order order is checked on {Orders / 5} orders",
        });
    }
}
