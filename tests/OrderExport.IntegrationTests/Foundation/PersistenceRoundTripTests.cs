using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Foundation;

/// <summary>The EF Core model maps onto the schema scripts of both providers.</summary>
public sealed class PersistenceRoundTripTests(KafkaTestBroker broker)
{
    /// <summary>
    /// Writers queue for SQLite's one write lock inside SQLite (busy_timeout), not in
    /// Microsoft.Data.Sqlite's 150 ms sleep-and-retry loop.
    /// </summary>
    [Fact]
    public async Task SqliteConnections_WaitForTheWriteLockInsideSqlite()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString);
        app.Start();

        var busyTimeout = await app.WithDb(db => db.Database.SqlQueryRaw<long>("PRAGMA busy_timeout").ToListAsync(TestContext.Current.CancellationToken));

        busyTimeout.ShouldHaveSingleItem().ShouldBe(SqliteBusyTimeoutInterceptor.BusyTimeoutMs);
    }

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ConfirmedOrderAndItsOutboxRow_RoundTrip(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        await using var app = new OrderExportApp(broker, topics, provider, database.ConnectionString,
            new Dictionary<string, string?> { ["Outbox:RelayEnabled"] = "false" });
        app.Start();
        var confirmedAt = new DateTime(2026, 11, 21, 10, 30, 15, 123, DateTimeKind.Utc);

        var order = Order.Create("customer-ü-1", 1234.56m, "EUR", confirmedAt.AddMinutes(-1));
        order.Confirm(confirmedAt);
        await app.WithDb(async db =>
        {
            db.Orders.Add(order);
            return await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        });

        var (loaded, outbox) = await app.WithDb(async db => (
            await db.Orders.AsNoTracking().SingleAsync(o => o.Id == order.Id, TestContext.Current.CancellationToken),
            await db.OutboxMessages.AsNoTracking().ToListAsync(TestContext.Current.CancellationToken)));

        loaded.CustomerId.ShouldBe("customer-ü-1");
        loaded.Amount.ShouldBe(1234.56m);
        loaded.Currency.ShouldBe("EUR");
        loaded.Status.ShouldBe(OrderStatus.Confirmed);
        loaded.ExportStatus.ShouldBe(ExportStatus.Pending);
        loaded.ExportSequence.ShouldBe(1);
        loaded.ConfirmedAtUtc.ShouldBe(confirmedAt);
        loaded.ConfirmedAtUtc!.Value.Kind.ShouldBe(DateTimeKind.Utc);
        loaded.Version.ShouldBe(1);

        var row = outbox.ShouldHaveSingleItem();
        row.OrderId.ShouldBe(order.Id);
        row.EventType.ShouldBe(OrderExportRequested.EventType);
        row.PublishedAtUtc.ShouldBeNull();
        var envelope = JsonSerializer.Deserialize<MessageEnvelope>(row.Payload, JsonSerializerOptions.Web)!;
        envelope.EventId.ShouldBe(row.EventId);
        envelope.OrderId.ShouldBe(order.Id);
        envelope.SchemaVersion.ShouldBe(1);
        envelope.Payload.GetProperty("amount").GetDecimal().ShouldBe(1234.56m);
    }

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task SchemaMigration_IsRecordedAndIdempotentAcrossRestarts(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        for (var start = 0; start < 2; start++)
        {
            await using var app = new OrderExportApp(broker, topics, provider, database.ConnectionString);
            app.Start();
            var versions = await app.WithDb(db => db.Database
                .SqlQueryRaw<int>("SELECT version AS \"Value\" FROM schema_versions ORDER BY version")
                .ToListAsync(TestContext.Current.CancellationToken));
            versions.ShouldBe(SchemaMigrator.Scripts(provider).Select(s => s.Version));
        }
    }
}
