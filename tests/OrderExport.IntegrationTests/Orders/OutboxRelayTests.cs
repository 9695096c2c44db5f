using Microsoft.EntityFrameworkCore;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Orders;

/// <summary>Confirm → outbox → relay → the order-export topic, on each provider (SQL Server where one runs).</summary>
public sealed class OutboxRelayTests(KafkaTestBroker broker)
{
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task Confirm_PublishesExactlyOneRecordKeyedByOrderId(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        await using var app = new OrderExportApp(broker, topics, provider, database.ConnectionString);
        var orders = new OrdersClient(app.Start());
        using var reader = new TopicReader(broker, topics.Topic, topics.Partitions);

        var created = await orders.CreateAsync("customer-42", 250.75m, "CHF");
        var confirmed = await orders.ConfirmAsync(created.Id);
        await orders.ConfirmAsync(created.Id); // idempotent: no second event

        var record = (await reader.WaitForAsync(1)).ShouldHaveSingleItem();
        record.Key.ShouldBe(created.Id.ToString());
        var envelope = record.Envelope;
        envelope.OrderId.ShouldBe(created.Id);
        envelope.Type.ShouldBe(OrderExportRequested.EventType);
        envelope.SchemaVersion.ShouldBe(OrderExportRequested.SchemaVersion);
        envelope.OccurredAt.ShouldBe(confirmed.ConfirmedAt!.Value);
        envelope.Payload.GetProperty("customerId").GetString().ShouldBe("customer-42");
        envelope.Payload.GetProperty("amount").GetDecimal().ShouldBe(250.75m);
        envelope.Payload.GetProperty("currency").GetString().ShouldBe("CHF");
        envelope.Payload.GetProperty("sequence").GetInt32().ShouldBe(1);
        record.Headers[MessageHeaders.EventId].ShouldBe(envelope.EventId.ToString());
        record.Headers[MessageHeaders.EventType].ShouldBe(OrderExportRequested.EventType);

        // The row is marked published and the API says so.
        await Eventually.Until(() => orders.GetAsync(created.Id), o => o.ExportStatus == ExportStatus.Published);
        // Marked published, the row is never claimed again: any second copy was acknowledged before
        // the mark, so it is in the log now.
        reader.ReadToEnd().Count.ShouldBe(1);
    }

    /// <summary>The whole pipeline on each provider (SQLite is the zero-set-up default).</summary>
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ConfirmAndReExport_ReachThePlatformOnceEach_InSequence(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), provider, database.ConnectionString);
        var orders = new OrdersClient(app.Start());

        var order = await orders.CreateConfirmedAsync("customer-both-providers");
        await orders.RequestExportAsync(order.Id);

        await Eventually.Until(() => Task.FromResult(app.Platform.Exported.Where(c => c.OrderId == order.Id).ToList()), c => c.Count >= 2);
        await Eventually.Until(() => orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);
        app.Platform.Exported.Where(c => c.OrderId == order.Id).Select(c => c.Sequence).ShouldBe([1, 2]);
    }

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task EventCommittedBeforeACrash_IsPublishedAfterRestart(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        using var reader = new TopicReader(broker, topics.Topic, topics.Partitions);
        Guid orderId;

        // First life: the order commits with its outbox row, then the process stops before any
        // publish (the relay never runs in it: the window the Spring sample lost events in).
        await using (var first = new OrderExportApp(broker, topics, provider, database.ConnectionString,
                         new Dictionary<string, string?> { ["Outbox:RelayEnabled"] = "false" }))
        {
            var orders = new OrdersClient(first.Start());
            orderId = (await orders.CreateConfirmedAsync()).Id;
            (await orders.GetAsync(orderId)).ExportStatus.ShouldBe(ExportStatus.Pending);
        }

        reader.ReadAvailable().ShouldBeEmpty();

        // Second life: the relay finds the row and publishes it.
        await using var second = new OrderExportApp(broker, topics, provider, database.ConnectionString);
        second.Start();
        var record = (await reader.WaitForAsync(1)).ShouldHaveSingleItem();
        record.Envelope.OrderId.ShouldBe(orderId);
    }

    /// <summary>Two instances, each with one relay loop or with four (Outbox:Concurrency), on the providers whose claim locks.</summary>
    [Theory]
    [InlineData(DatabaseProvider.Postgres, 1)]
    [InlineData(DatabaseProvider.Postgres, 4)]
    [InlineData(DatabaseProvider.SqlServer, 4)]
    public async Task TwoRelaysOnOneDatabase_PublishEveryEventOnceInPerOrderOrder(DatabaseProvider provider, int loopsPerInstance)
    {
        const int orderCount = 60;
        const int eventsPerOrder = 4;
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        var small = new Dictionary<string, string?>
        {
            ["Outbox:BatchSize"] = "7",
            ["Outbox:Concurrency"] = loopsPerInstance.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var first = new OrderExportApp(broker, topics, provider, database.ConnectionString, small);
        await using var second = new OrderExportApp(broker, topics, provider, database.ConnectionString, small);
        var clients = new[] { new OrdersClient(first.Start()), new OrdersClient(second.Start()) };
        using var reader = new TopicReader(broker, topics.Topic, topics.Partitions);

        // Requests alternate between the instances, so both relays see work from both.
        var orderIds = await Task.WhenAll(Enumerable.Range(0, orderCount).Select(async i =>
        {
            var client = clients[i % 2];
            var order = await client.CreateConfirmedAsync($"customer-{i}");
            for (var e = 1; e < eventsPerOrder; e++)
            {
                await clients[(i + e) % 2].RequestExportAsync(order.Id);
            }

            return order.Id;
        }));

        var records = await reader.WaitForAsync(orderCount * eventsPerOrder, TimeSpan.FromSeconds(60));
        records.Count.ShouldBe(orderCount * eventsPerOrder);
        records.Select(r => r.Envelope.EventId).Distinct().Count().ShouldBe(records.Count, "no event published twice");
        foreach (var orderId in orderIds)
        {
            var sequences = records
                .Where(r => r.Key == orderId.ToString())
                .OrderBy(r => r.Offset)
                .Select(r => r.Envelope.Payload.GetProperty("sequence").GetInt32())
                .ToList();
            sequences.ShouldBe(Enumerable.Range(1, eventsPerOrder), $"order {orderId} in order");
            records.Where(r => r.Key == orderId.ToString()).Select(r => r.Partition).Distinct().Count().ShouldBe(1);
        }

        var unpublished = await first.WithDb(db => db.OutboxMessages.CountAsync(m => m.PublishedAtUtc == null, TestContext.Current.CancellationToken));
        unpublished.ShouldBe(0);
    }

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task PublishedRows_AreDeletedAfterRetention(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        await using var app = new OrderExportApp(broker, topics, provider, database.ConnectionString,
            new Dictionary<string, string?> { ["Outbox:Retention"] = "00:00:00", ["Outbox:CleanupInterval"] = "00:00:01" });
        var orders = new OrdersClient(app.Start());

        await orders.CreateConfirmedAsync();

        await Eventually.True(
            () => app.WithDb(async db => !await db.OutboxMessages.AnyAsync(TestContext.Current.CancellationToken)),
            because: "the published row is cleaned up");
    }
}
