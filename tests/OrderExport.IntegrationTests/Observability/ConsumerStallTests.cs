using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Observability;

/// <summary>
/// An operator learns that exports stopped on a partition without reading logs: readiness names the
/// partition, the offset and the order; the order behind it says why it waits; the gauges show it.
/// The relay is fine in each case (its outbox-age check cannot see this): the consumer is where it stops.
/// </summary>
public sealed class ConsumerStallTests(KafkaTestBroker broker)
{
    private static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The scenario with a fault the service cannot get past: the database refuses one order's
    /// inbox row (a trigger raising an error), so its record is retried without end, and the orders
    /// behind it on its partition wait. The other partitions flow.
    /// </summary>
    [Fact]
    public async Task ARecordThatCannotBeFinished_TurnsReadinessDegraded_NamingPartitionOffsetAndOrder_ShowsInMetrics_AndClearsOnceItMoves()
    {
        await using var fixture = await StuckPartition.StartAsync(broker, maxInFlight: 1);
        var (http, orders, metrics, topic) = (fixture.Http, fixture.Orders, fixture.Metrics, fixture.Topic);
        var (stuck, stuckRecord, partition) = (fixture.Stuck, fixture.StuckRecord, fixture.StuckRecord.Partition);

        var (behind, elsewhere) = await OrdersOnAndOffAsync(orders, topic, partition);
        await Eventually.Until(() => orders.GetAsync(Guid.Parse(elsewhere.Key)), o => o.ExportStatus == ExportStatus.Exported,
            because: "the other partitions flow");

        var pipeline = (await Readiness.ShouldBecome(http, "Degraded", HttpStatusCode.OK, StallAfter + TimeSpan.FromSeconds(15))).Pipeline();
        var description = pipeline.GetProperty("description").GetString()!;
        description.ShouldContain($"partition {partition} finished nothing");
        ShouldNameTheStuckRecord(pipeline, stuckRecord, stuck.Id);

        var waiting = await orders.GetAsync(Guid.Parse(behind.Key));
        waiting.ExportStatus.ShouldBe(ExportStatus.Published);
        waiting.ExportWaiting.ShouldNotBeNull().ShouldStartWith(
            $"Published to partition {partition} @ offset {behind.Offset}; the partition is stuck at offset {stuckRecord.Offset} (order {stuck.Id})");
        waiting.ExportWaiting.ShouldContain("retried");

        var tags = ("partition", partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Eventually.True(() => Task.FromResult(metrics.Observe("orderexport.consumer.lag", tags) >= behind.Offset - stuckRecord.Offset + 1),
            because: "the lag counts the stuck record and those behind it");
        metrics.Observe("orderexport.consumer.oldest_unfinished_age", tags).ShouldBeGreaterThan(StallAfter.TotalSeconds);
        metrics.Observe("orderexport.consumer.time_since_progress", tags).ShouldBeGreaterThan(StallAfter.TotalSeconds);
        metrics.Sum("orderexport.consumer.retries", tags, ("cause", "infrastructure")).ShouldBeGreaterThan(0);

        await fixture.LetItMoveAsync();
        await Eventually.Until(() => orders.GetAsync(Guid.Parse(behind.Key)), o => o.ExportStatus == ExportStatus.Exported && o.ExportWaiting is null);
        (await orders.GetAsync(stuck.Id)).ExportStatus.ShouldBe(ExportStatus.Exported);
    }

    /// <summary>
    /// The same fault with orders side by side (<c>Consumer:MaxInFlightPerPartition=8</c>): only the
    /// stuck order's own events wait; the partition moves on around it, and readiness still names
    /// the record the partition's commit point waits on.
    /// </summary>
    [Fact]
    public async Task WithOrdersSideBySide_OnlyTheStuckOrderWaits_AndReadinessNamesWhereTheCommitPointIsHeld()
    {
        await using var fixture = await StuckPartition.StartAsync(broker, maxInFlight: 8);
        var (http, orders, metrics, topic) = (fixture.Http, fixture.Orders, fixture.Metrics, fixture.Topic);
        var (stuck, stuckRecord, partition) = (fixture.Stuck, fixture.StuckRecord, fixture.StuckRecord.Partition);
        // The order's second event waits behind its first; other orders, even on its partition, do not.
        await orders.RequestExportAsync(stuck.Id);

        var (neighbour, elsewhere) = await OrdersOnAndOffAsync(orders, topic, partition);
        await Eventually.Until(() => orders.GetAsync(Guid.Parse(neighbour.Key)), o => o.ExportStatus == ExportStatus.Exported,
            because: "orders beside the stuck one on its partition flow (key-ordered concurrency)");
        await Eventually.Until(() => orders.GetAsync(Guid.Parse(elsewhere.Key)), o => o.ExportStatus == ExportStatus.Exported,
            because: "the other partitions flow");

        var pipeline = (await Readiness.ShouldBecome(http, "Degraded", HttpStatusCode.OK, StallAfter + TimeSpan.FromSeconds(15))).Pipeline();
        var description = pipeline.GetProperty("description").GetString()!;
        description.ShouldContain($"partition {partition} ");
        ShouldNameTheStuckRecord(pipeline, stuckRecord, stuck.Id);

        var waiting = await orders.GetAsync(stuck.Id);
        waiting.ExportStatus.ShouldBe(ExportStatus.Published);
        waiting.ExportWaiting.ShouldNotBeNull().ShouldStartWith($"Published to partition {partition} @ offset {stuckRecord.Offset}; being exported for");
        waiting.ExportWaiting.ShouldContain("retried");

        var tags = ("partition", partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Eventually.True(() => Task.FromResult(metrics.Observe("orderexport.consumer.lag", tags) >= 2),
            because: "the lag counts from the stuck record: a crash would re-deliver from there");
        metrics.Observe("orderexport.consumer.oldest_unfinished_age", tags).ShouldBeGreaterThan(StallAfter.TotalSeconds);
        metrics.Sum("orderexport.consumer.retries", tags, ("cause", "infrastructure")).ShouldBeGreaterThan(0);

        await fixture.LetItMoveAsync();
        await Eventually.Until(() => orders.GetAsync(stuck.Id), o => o.ExportStatus == ExportStatus.Exported && o.ExportWaiting is null);
        await Eventually.Until(() => Task.FromResult(fixture.App.Platform.Exported.Where(c => c.OrderId == stuck.Id).Select(c => c.Sequence).ToList()),
            s => s.Count == 2, because: "both events of the stuck order, once it moves");
        fixture.App.Platform.Exported.Where(c => c.OrderId == stuck.Id).Select(c => c.Sequence).ShouldBe([1, 2], "in order");
    }

    [Fact]
    public async Task APlatformHangingOnOneOrder_TurnsReadinessDegradedWithinTheSetting_AndHealthyAfterItAnswers()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(partitions: 1), DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?>
            {
                ["Health:ConsumerStallAfter"] = Setting(StallAfter),
                // Short platform budgets and many rounds: the order is neither exported nor dead-lettered meanwhile.
                ["Platform:AttemptTimeout"] = "00:00:00.300",
                ["Platform:MaxRetries"] = "1",
                ["Platform:TotalTimeout"] = "00:00:01",
                ["Consumer:DeliveryRounds"] = "100",
                ["Consumer:RoundDelay"] = "00:00:00.100",
            });
        var http = app.Start();
        var orders = new OrdersClient(http);
        await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK);

        var hanging = await orders.CreateAsync();
        app.PlatformBehavior.Hang(hanging.Id);
        await orders.ConfirmAsync(hanging.Id);

        var pipeline = (await Readiness.ShouldBecome(http, "Degraded", HttpStatusCode.OK, StallAfter + TimeSpan.FromSeconds(15))).Pipeline();
        pipeline.GetProperty("description").GetString()!.ShouldContain($"partition 0 finished nothing for");
        pipeline.GetProperty("description").GetString()!.ShouldContain($"stuck at offset 0 (order {hanging.Id})");
        (await orders.GetAsync(hanging.Id)).ExportWaiting.ShouldNotBeNull().ShouldStartWith("Published to partition 0 @ offset 0; being exported for");

        app.PlatformBehavior.Reset();
        await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK);
        (await orders.GetAsync(hanging.Id)).ExportStatus.ShouldBe(ExportStatus.Exported);
    }

    /// <summary>
    /// An order held behind its dead letter is not a stall: its later records are parked (finished)
    /// and the partition moves on. Readiness is Degraded for the dead letter only, never for a partition.
    /// </summary>
    [Fact]
    public async Task AHeldOrder_NeverReportsAStalledPartition()
    {
        var stallAfter = TimeSpan.FromMilliseconds(500);
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(partitions: 1), DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?> { ["Health:ConsumerStallAfter"] = Setting(stallAfter) });
        var http = app.Start();
        var orders = new OrdersClient(http);

        var held = await orders.CreateAsync();
        app.PlatformBehavior.Reject(held.Id);
        await orders.ConfirmAsync(held.Id);
        await Eventually.Until(() => orders.GetAsync(held.Id), o => o.ExportStatus == ExportStatus.DeadLettered);
        await orders.RequestExportAsync(held.Id);
        var after = await orders.CreateConfirmedAsync();
        await Eventually.Until(() => orders.GetAsync(after.Id), o => o.ExportStatus == ExportStatus.Exported, because: "the partition moves on");
        (await app.WithDb(db => db.ParkedMessages.CountAsync(p => p.OrderId == held.Id, TestContext.Current.CancellationToken))).ShouldBe(1);

        // Several stall windows long: every report blames the dead letter and no partition.
        var samples = 0;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < 3 * stallAfter; samples++)
        {
            var pipeline = (await Readiness.ReadAsync(http)).Pipeline();
            var description = pipeline.GetProperty("description").GetString()!;
            description.ShouldContain("1 unresolved dead letter(s)");
            description.ShouldNotContain("finished nothing");
            PartitionData(pipeline, 0).GetProperty("unfinished").GetInt32().ShouldBe(0);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        samples.ShouldBeGreaterThan(5);
        app.Service<ConsumerProgress>().Stalled(stallAfter).ShouldBeEmpty();
    }

    /// <summary>Confirms orders until one is keyed to <paramref name="partition"/> and one to another partition.</summary>
    private static async Task<(ReadRecord On, ReadRecord Off)> OrdersOnAndOffAsync(OrdersClient orders, TopicReader topic, int partition)
    {
        ReadRecord? on = null;
        ReadRecord? off = null;
        for (var i = 0; i < 60 && (on is null || off is null); i++)
        {
            var record = await RecordOf(topic, (await orders.CreateConfirmedAsync()).Id);
            if (record.Partition == partition)
            {
                on ??= record;
            }
            else
            {
                off ??= record;
            }
        }

        on.ShouldNotBeNull("an order keyed to the stuck partition");
        off.ShouldNotBeNull("an order keyed to another partition");
        return (on, off);
    }

    /// <summary>Readiness names the stuck record (offset, order, the injected error) while the relay is fine.</summary>
    private static void ShouldNameTheStuckRecord(JsonElement pipeline, ReadRecord stuckRecord, Guid stuckOrder)
    {
        var description = pipeline.GetProperty("description").GetString()!;
        description.ShouldContain($"stuck at offset {stuckRecord.Offset} (order {stuckOrder})");
        description.ShouldContain("fault injected", customMessage: description);
        var stalled = PartitionData(pipeline, stuckRecord.Partition);
        stalled.GetProperty("stalled").GetBoolean().ShouldBeTrue();
        stalled.GetProperty("oldestUnfinishedOffset").GetInt64().ShouldBe(stuckRecord.Offset);
        stalled.GetProperty("retries").GetInt32().ShouldBeGreaterThan(0);
        pipeline.GetProperty("data").GetProperty("outboxPending").GetInt64().ShouldBe(0, "the relay is fine");
    }

    private static string Setting(TimeSpan span) => span.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    private static JsonElement PartitionData(JsonElement pipeline, int partition) =>
        pipeline.GetProperty("data").GetProperty("consumerPartitions").EnumerateArray()
            .Single(p => p.GetProperty("partition").GetInt32() == partition);

    private static async Task<ReadRecord> RecordOf(TopicReader topic, Guid orderId) =>
        (await Eventually.Until(() => Task.FromResult(topic.ReadAvailable()), r => r.Any(x => x.Key == orderId.ToString()), because: $"order {orderId} on the topic"))
        .First(x => x.Key == orderId.ToString());

    /// <summary>
    /// A service on PostgreSQL whose database refuses every inbox row of one confirmed order, so that
    /// order's record is retried without end on its partition. <see cref="LetItMoveAsync"/> lifts the fault.
    /// </summary>
    private sealed class StuckPartition : IAsyncDisposable
    {
        private TestDatabase _database = null!;

        public OrderExportApp App { get; private init; } = null!;

        public HttpClient Http { get; private init; } = null!;

        public OrdersClient Orders { get; private init; } = null!;

        public MetricsRecorder Metrics { get; private init; } = null!;

        public TopicReader Topic { get; private init; } = null!;

        public OrderResponse Stuck { get; private set; } = null!;

        public ReadRecord StuckRecord { get; private set; } = null!;

        public static async Task<StuckPartition> StartAsync(KafkaTestBroker broker, int maxInFlight)
        {
            var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
            var topics = await broker.CreateTopicsAsync(partitions: 3);
            var app = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, new Dictionary<string, string?>
            {
                ["Health:ConsumerStallAfter"] = Setting(StallAfter),
                ["Consumer:InfrastructureRetryMaxDelay"] = "00:00:00.200",
                ["Consumer:MaxInFlightPerPartition"] = maxInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            var http = app.Start();
            var fixture = new StuckPartition
            {
                _database = database,
                App = app,
                Http = http,
                Orders = new OrdersClient(http),
                Metrics = new MetricsRecorder(app.Service<IMeterFactory>()),
                Topic = new TopicReader(broker, topics.Topic, topics.Partitions),
            };
            await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK);

            fixture.Stuck = await fixture.Orders.CreateAsync();
            await RefuseInboxRowsOf(app, fixture.Stuck.Id);
            await fixture.Orders.ConfirmAsync(fixture.Stuck.Id);
            fixture.StuckRecord = await RecordOf(fixture.Topic, fixture.Stuck.Id);
            return fixture;
        }

        /// <summary>Drops the fault; readiness turns Healthy and the partition is no longer stalled.</summary>
        public async Task LetItMoveAsync()
        {
            await App.WithDb(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_inbox ON inbox_messages", TestContext.Current.CancellationToken));
            var healthy = (await Readiness.ShouldBecome(Http, "Healthy", HttpStatusCode.OK)).Pipeline();
            PartitionData(healthy, StuckRecord.Partition).GetProperty("stalled").GetBoolean().ShouldBeFalse();
        }

        public async ValueTask DisposeAsync()
        {
            Topic.Dispose();
            Metrics.Dispose();
            await App.DisposeAsync();
            await _database.DisposeAsync();
        }
    }

    /// <summary>
    /// A fault only the database can make: every inbox row of this order is refused (SQLSTATE P0001,
    /// not a data error, so the consumer retries it as the infrastructure's). The order id is a Guid: no quoting to get wrong.
    /// </summary>
    private static Task RefuseInboxRowsOf(OrderExportApp app, Guid orderId) => app.WithDb(db => db.Database.ExecuteSqlRawAsync(
        """
        CREATE FUNCTION refuse_inbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.order_id = '{ORDER}' THEN RAISE EXCEPTION 'fault injected for order %', NEW.order_id; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_inbox BEFORE INSERT ON inbox_messages FOR EACH ROW EXECUTE FUNCTION refuse_inbox();
        """.Replace("{ORDER}", orderId.ToString(), StringComparison.Ordinal), TestContext.Current.CancellationToken));
}
