using System.Diagnostics;
using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Faults 9 and 10 (issue 14): service instances join, sit idle, leave and die while orders
/// flow. Every instance runs the relay as well as the consumer (two relay loops each), so relay
/// instances come and go on one database too. A 6 s session: librdkafka's mock coordinator holds
/// each rebalance round that long, less a second (ADR 6), and a dead member is noticed after it.
/// </summary>
public sealed class ScaleOutReliabilityTests(KafkaTestBroker broker)
{
    private static readonly Dictionary<string, string?> Instance = new()
    {
        ["Consumer:SessionTimeoutMs"] = "6000",
        ["Outbox:Concurrency"] = "2",
    };

    [Fact]
    public async Task InstancesJoinSitIdleAndLeaveUnderLoad_EveryJoinerExports_AFourthStaysIdleAndReady_NothingLostOrTwice()
    {
        await using var rig = await ReliabilityRig.CreateAsync(broker);
        var workload = new OrderWorkload(concurrency: 4, reExportEvery: 5);
        var (first, http) = rig.StartApp(Instance);
        var sending = workload.RunAsync(http, 1600, perSecond: 20);
        await Eventually.Until(() => Task.FromResult(first.Platform.Exported.Count), n => n > 0, TimeSpan.FromSeconds(30), "the first instance exports");

        var joining = Stopwatch.StartNew();
        var (second, _) = rig.StartApp(Instance);
        var (third, _) = rig.StartApp(Instance);
        await Eventually.Until(() => Task.FromResult(new[] { first, second, third }.Count(a => a.Platform.Exported.Count > 0)),
            n => n == 3, TimeSpan.FromSeconds(40), "each of three instances exports from a partition of its own within 40 s");
        var joined = joining.Elapsed;

        var (fourth, fourthHttp) = rig.StartApp(Instance);
        var idle = Stopwatch.StartNew();
        // Two rounds (about 10 s) settle the group; the fourth must not have exported anything by then.
        await Eventually.Until(() => Task.FromResult(idle.Elapsed), t => t > TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(20));
        fourth.Platform.Exported.ShouldBeEmpty("three partitions, four instances: one sits idle");
        (await fourthHttp.GetAsync("/health/ready", TestContext.Current.CancellationToken)).IsSuccessStatusCode.ShouldBeTrue("an idle instance is ready");

        var leaving = Stopwatch.StartNew();
        await rig.StopAppAsync(second);
        await Eventually.Until(() => Task.FromResult(fourth.Platform.Exported.Count), n => n > 0, TimeSpan.FromSeconds(40),
            "the leaver's partition moves on: here to the idle instance");
        var movedOn = leaving.Elapsed;
        workload.Sent.ShouldBeLessThan(1600, "the leave happened while orders still flowed");

        await sending;
        var drain = await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));
        var audit = await rig.AuditAsync();
        workload.ShouldHaveHadOnlyExpectedAnswers();
        // A graceful leave finishes (or abandons, after 5 s) the records in hand: at most one per record in flight again.
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, maxPlatformDuplicateCalls: rig.RecordsInFlight);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S9",
            "Instances join, sit idle and leave under load",
            nameof(InstancesJoinSitIdleAndLeaveUnderLoad_EveryJoinerExports_AFourthStaysIdleAndReady_NothingLostOrTwice),
            "20 orders/s through the first of four instances (each with the relay, 2 loops, and the consumer; 3 partitions): "
                + "a second and third join, a fourth joins and must stay idle, then the second stops gracefully") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"all three exporting {joined.TotalSeconds:0.0} s after the joins (bound 40 s); the fourth idle and ready 15 s after joining; "
                + $"its first export {movedOn.TotalSeconds:0.0} s after the second began to stop; drain timed after the last order was sent",
        });
    }

    [Fact]
    public async Task AnInstanceKilledUnderLoad_ItsPartitionsMoveAfterTheSessionTimeout_NothingLostOrTwice()
    {
        await using var rig = await ReliabilityRig.CreateAsync(broker, sharedPlatform: true);
        var workload = new OrderWorkload(concurrency: 4, reExportEvery: 5);
        var (_, http) = rig.StartApp(Instance);
        using var doomed = rig.StartProcess(Instance);
        var sending = workload.RunAsync(http, 1000, perSecond: 20);
        var owned = await doomed.WaitForLogAsync(line => System.Text.RegularExpressions.Regex.IsMatch(line, @"Partitions assigned: \d"),
            TimeSpan.FromSeconds(60), "the process instance owns partitions");

        // Kill it mid-flow, once a good part of the orders went out (some of them through it).
        await Eventually.Until(() => Task.FromResult(rig.Platforms[0].Exported.Count), n => n >= 300, TimeSpan.FromSeconds(60), "300 exports");
        var sentAtKill = workload.Sent;
        doomed.Kill();
        var killed = Stopwatch.StartNew();

        await sending;
        var drain = await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));
        var sinceKill = killed.Elapsed;
        var audit = await rig.AuditAsync();
        workload.ShouldHaveHadOnlyExpectedAnswers();
        sentAtKill.ShouldBeLessThan(1000, "the kill happened while orders still flowed");
        // The dead instance's records between the platform's 200 and the inbox write: at most one per record in flight.
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, maxPlatformDuplicateCalls: rig.RecordsInFlight);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S10",
            "An instance killed under load (SIGKILL: no leave, no commit)",
            nameof(AnInstanceKilledUnderLoad_ItsPartitionsMoveAfterTheSessionTimeout_NothingLostOrTwice),
            "20 orders/s; two instances (one a process of its own, both with the relay and the consumer) export to one platform over HTTP; "
                + $"the process is killed after 300 exports ({owned.Split("assigned:")[^1].Trim()} its partitions at the start)") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = sinceKill.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"its partitions move after the 6 s session timeout; drain timed from the kill, while {workload.Sent - sentAtKill} more orders were sent "
                + $"(the final wait alone took {drain.TotalSeconds:0.0} s); its relay's claimed rows are published again by the survivor (Kafka duplicates: {audit.KafkaDuplicates}, absorbed by the inbox)",
        });
    }
}
