using Microsoft.EntityFrameworkCore;
using Npgsql;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Orders;

/// <summary>
/// In a backlog the relay claims after the highest id it has claimed (ADR 5). These check what that
/// mark may and may not skip: it never lets an order's later event pass an earlier one, and a row
/// it passes over is still published while the backlog lasts.
/// </summary>
public sealed class RelayResumeTests(KafkaTestBroker broker)
{
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ClaimAfterAMark_TakesOnlyLaterRows_AndNeverAnOrdersLaterEventFirst(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var topics = await broker.CreateTopicsAsync();
        await using var app = new OrderExportApp(broker, topics, provider, database.ConnectionString,
            new Dictionary<string, string?> { ["Outbox:RelayEnabled"] = "false", ["Consumer:Enabled"] = "false" });
        var orders = new OrdersClient(app.Start());
        using var reader = new TopicReader(broker, topics.Topic, topics.Partitions);
        var relay = app.Service<OutboxRelay>();
        var ct = TestContext.Current.CancellationToken;

        // Rows in id order: a1, b1, c1, a2.
        var a = await orders.CreateConfirmedAsync("customer-a");
        var b = await orders.CreateConfirmedAsync("customer-b");
        var c = await orders.CreateConfirmedAsync("customer-c");
        await orders.RequestExportAsync(a.Id);
        var rows = await app.WithDb(db => db.OutboxMessages.OrderBy(m => m.Id).Select(m => new { m.Id, m.OrderId }).ToListAsync(ct));
        rows.Select(r => r.OrderId).ShouldBe([a.Id, b.Id, c.Id, a.Id]);

        // After a1's id: b1 and c1. Not a2, whose order still has a1 unpublished.
        (await relay.RelayBatchAsync(rows[0].Id, ct)).ShouldBe(2);
        (await reader.WaitForAsync(2)).Select(r => r.Key).ShouldBe([b.Id.ToString(), c.Id.ToString()], ignoreOrder: true);

        // From the start: a1, and only then a2.
        (await relay.RelayBatchAsync(0, ct)).ShouldBe(1);
        (await relay.RelayBatchAsync(0, ct)).ShouldBe(1);
        (await relay.RelayBatchAsync(0, ct)).ShouldBe(0);
        var forA = (await reader.WaitForAsync(4)).Where(r => r.Key == a.Id.ToString()).OrderBy(r => r.Offset).ToList();
        forA.Select(r => r.Envelope.Payload.GetProperty("sequence").GetInt32()).ShouldBe([1, 2]);
    }

    [Fact]
    public async Task RowCommittedBelowTheMark_IsPublishedWhileTheBacklogLasts()
    {
        const int backlog = 5_000;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var topics = await broker.CreateTopicsAsync();
        await using var app = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, LongBacklog());
        app.Start();
        var ct = TestContext.Current.CancellationToken;

        // The late row takes its id first and commits last: once the relay is into the backlog behind it.
        await using var late = new NpgsqlConnection(database.ConnectionString);
        await late.OpenAsync(ct);
        await using var lateTransaction = await late.BeginTransactionAsync(ct);
        var lateId = await InsertAsync(late, lateTransaction, 1, ct);
        await using (var seed = new NpgsqlConnection(database.ConnectionString))
        {
            await seed.OpenAsync(ct);
            await InsertAsync(seed, null, backlog, ct);
        }

        await Eventually.True(() => app.WithDb(db => db.OutboxMessages.AnyAsync(m => m.PublishedAtUtc != null, ct)),
            because: "the relay is draining the backlog");
        await lateTransaction.CommitAsync(ct);

        await Eventually.True(() => app.WithDb(db => db.OutboxMessages.AllAsync(m => m.PublishedAtUtc != null, ct)),
            TimeSpan.FromSeconds(60), "everything published");
        var publishedAfterLate = await app.WithDb(async db =>
        {
            var lateAt = await db.OutboxMessages.Where(m => m.Id == lateId).Select(m => m.PublishedAtUtc).SingleAsync(ct);
            return await db.OutboxMessages.CountAsync(m => m.PublishedAtUtc > lateAt, ct);
        });
        publishedAfterLate.ShouldBeGreaterThan(backlog / 10, "the late row waited for a claim from the start, not for the end of the backlog");
    }

    [Fact]
    public async Task AnOrdersNextEvent_PassedByTheMark_IsPublishedWhileTheBacklogLasts()
    {
        const int orders = 2_000;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var topics = await broker.CreateTopicsAsync();
        await using var app = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, LongBacklog());
        app.Start();
        var ct = TestContext.Current.CancellationToken;

        // Each order's two events side by side (ids 1, 2 for the first order, 3, 4 for the next, ...):
        // a claim takes first events only, and the mark soon passes each second one.
        await using (var seed = new NpgsqlConnection(database.ConnectionString))
        {
            await seed.OpenAsync(ct);
            await using var insert = new NpgsqlCommand("""
                INSERT INTO outbox_messages (event_id, order_id, event_type, schema_version, occurred_at, payload, created_at)
                SELECT gen_random_uuid(), o.id, 'OrderExportRequested', 1, now(), '{}', now()
                FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, @orders) n) o, generate_series(1, 2) e
                ORDER BY o.n, e
                """, seed);
            insert.Parameters.AddWithValue("orders", orders);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await Eventually.True(() => app.WithDb(db => db.OutboxMessages.AllAsync(m => m.PublishedAtUtc != null, ct)),
            TimeSpan.FromSeconds(60), "everything published");
        var (firstOrdersSecondEvent, lastFirstEvent) = await app.WithDb(async db =>
        {
            var rows = await db.OutboxMessages.OrderBy(m => m.Id).Select(m => new { m.Id, m.PublishedAtUtc }).ToListAsync(ct);
            return (rows[1].PublishedAtUtc!.Value, rows[^2].PublishedAtUtc!.Value);
        });
        firstOrdersSecondEvent.ShouldBeLessThan(lastFirstEvent, "the first order's second event left before the backlog's last first event");
    }

    /// <summary>Small batches, so a few thousand rows are a backlog of hundreds of claims, and a sweep every 100 ms.</summary>
    private static Dictionary<string, string?> LongBacklog() => new()
    {
        ["Consumer:Enabled"] = "false",
        ["Outbox:BatchSize"] = "5",
        ["Outbox:PollInterval"] = "00:00:00.100",
    };

    /// <summary>Inserts <paramref name="count"/> outbox rows of distinct orders; returns the first one's id.</summary>
    private static async Task<long> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, int count, CancellationToken ct)
    {
        await using var insert = new NpgsqlCommand("""
            INSERT INTO outbox_messages (event_id, order_id, event_type, schema_version, occurred_at, payload, created_at)
            SELECT gen_random_uuid(), gen_random_uuid(), 'OrderExportRequested', 1, now(), '{}', now()
            FROM generate_series(1, @count)
            RETURNING id
            """, connection, transaction);
        insert.Parameters.AddWithValue("count", count);
        return (await insert.ExecuteScalarAsync(ct)) is long id ? id : throw new InvalidOperationException("no row inserted");
    }
}
