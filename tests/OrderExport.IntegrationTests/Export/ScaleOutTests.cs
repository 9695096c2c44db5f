using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>A second instance joining the consumer group gets partitions of its own and exports from them.</summary>
public sealed class ScaleOutTests(KafkaTestBroker broker)
{
    /// <remarks>
    /// The session timeout is 6 s here: librdkafka's mock coordinator holds each rebalance round
    /// open for session.timeout.ms − 1 s, and cooperative-sticky takes two rounds to move a
    /// partition, so with the 45 s default the newcomer owns nothing for about 88 s (ADR 6).
    /// </remarks>
    [Fact]
    public async Task ASecondInstance_TakesOverPartitions_AndExportsFromThem()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var topics = await broker.CreateTopicsAsync();
        var settings = new Dictionary<string, string?> { ["Consumer:AutoCommitIntervalMs"] = "1000", ["Consumer:SessionTimeoutMs"] = "6000" };
        await using var first = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, settings);
        var orders = new OrdersClient(first.Start());
        var before = await orders.CreateConfirmedAsync();
        await Eventually.Until(() => Task.FromResult(first.Platform.Exported.Count), n => n == 1, because: "the first instance runs alone");

        await using var second = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, settings);
        second.Start();

        // An order every two seconds until one lands on a partition the newcomer owns.
        var sent = new List<Guid> { before.Id };
        var pace = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.Until(async () =>
        {
            if (pace.Elapsed >= TimeSpan.FromSeconds(2))
            {
                sent.Add((await orders.CreateConfirmedAsync()).Id);
                pace.Restart();
            }

            return second.Platform.Exported.Count;
        }, n => n > 0, TimeSpan.FromSeconds(60), "the newcomer exports from partitions of its own");

        await Eventually.Until(() => Task.FromResult(first.Platform.Exported.Count + second.Platform.Exported.Count),
            n => n >= sent.Count, TimeSpan.FromSeconds(30), "every order exported by one instance or the other");
        first.Platform.Exported.Concat(second.Platform.Exported).GroupBy(c => c.EventId).ShouldAllBe(g => g.Count() == 1);
    }

    /// <summary>
    /// The Spring notes' scaling story under a steady 10 orders/s: a second and a third instance
    /// join and each exports from a partition of its own within 40 s (two 5 s rebalance rounds each,
    /// with margin); a fourth owns nothing, exports nothing and is ready; when the second stops
    /// gracefully its partition moves on and the work goes on. Nothing lost, nothing exported twice.
    /// </summary>
    [Fact]
    public async Task UnderLoad_JoinersShareThePartitions_AFourthSitsIdleButReady_AndALeaversPartitionMovesOn()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var topics = await broker.CreateTopicsAsync();
        var settings = new Dictionary<string, string?> { ["Consumer:SessionTimeoutMs"] = "6000" };
        OrderExportApp NewInstance() => new(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, settings);
        await using var first = NewInstance();
        await using var second = NewInstance();
        await using var third = NewInstance();
        await using var fourth = NewInstance();
        var orders = new OrdersClient(first.Start());
        var sent = new System.Collections.Concurrent.ConcurrentQueue<Guid>();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var load = Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                sent.Enqueue((await orders.CreateConfirmedAsync()).Id);
                await Task.Delay(100, CancellationToken.None); // the load's pace, not a wait for an outcome
            }
        }, CancellationToken.None);

        await Eventually.Until(() => Task.FromResult(first.Platform.Exported.Count), n => n > 0, because: "the first instance runs alone");
        second.Start();
        third.Start();
        await Eventually.Until(() => Task.FromResult(new[] { first, second, third }.Count(a => a.Platform.Exported.Count > 0)),
            n => n == 3, TimeSpan.FromSeconds(40), "each of three instances exports from a partition of its own");

        var idle = fourth.Start();
        var fourthJoined = System.Diagnostics.Stopwatch.StartNew();
        // Two rounds (about 10 s) settle the group; then the fourth must still have exported nothing.
        await Eventually.Until(() => Task.FromResult(fourthJoined.Elapsed), t => t > TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(20));
        fourth.Platform.Exported.ShouldBeEmpty("three partitions, four instances: one sits idle");
        (await idle.GetAsync("/health/ready", ct)).IsSuccessStatusCode.ShouldBeTrue("an idle instance is still ready");

        var secondPlatform = second.Platform;
        var leaverExported = secondPlatform.Exported.Count;
        await second.DisposeAsync();
        var rest = new[] { first, third, fourth };
        var before = rest.Sum(a => a.Platform.Exported.Count);
        // The leaver's partition is handled elsewhere: more than the others' share goes out meanwhile.
        await Eventually.Until(() => Task.FromResult(rest.Sum(a => a.Platform.Exported.Count) - before), n => n >= 60, TimeSpan.FromSeconds(40),
            "the work goes on after an instance leaves");
        await stopLoad.CancelAsync();
        await load;

        var all = await Eventually.Until(
            () => Task.FromResult(rest.SelectMany(a => a.Platform.Exported).Concat(secondPlatform.Exported).ToList()),
            e => e.Select(c => c.OrderId).Distinct().Count() == sent.Count, TimeSpan.FromSeconds(60), "every confirmed order exported");
        all.GroupBy(c => c.EventId).ShouldAllBe(g => g.Count() == 1, "no event exported twice across instances");
        leaverExported.ShouldBeGreaterThan(0);
        fourth.Platform.Exported.Count.ShouldBeGreaterThan(0, "the idle instance took over the leaver's partition");
    }
}
