using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>
/// A second instance joining the consumer group gets partitions of its own and exports from them.
/// Joining, idling, leaving and dying under load, counted: Reliability/ScaleOutReliabilityTests.
/// </summary>
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
}
