using System.Net;
using System.Net.Http.Json;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Orders;

/// <summary>
/// The order change and its outbox row commit together or not at all, through the path the
/// endpoints take: a Mediator command saves the order, the SaveChanges interceptor publishes
/// OrderExportRequested, and its handler adds the row to that same save.
/// </summary>
public sealed class SameTransactionTests(KafkaTestBroker broker)
{
    private const string RefusedBy = "refused by the test";

    /// <summary>
    /// The database refuses one of the two writes (the order's UPDATE or the outbox INSERT) after
    /// executing it: the other one must not commit. Then, refusing nothing, the same command
    /// writes both.
    /// </summary>
    [Theory]
    [InlineData(DatabaseProvider.Postgres, "outbox_messages", "INSERT")]
    [InlineData(DatabaseProvider.Postgres, "orders", "UPDATE")]
    [InlineData(DatabaseProvider.Sqlite, "outbox_messages", "INSERT")]
    [InlineData(DatabaseProvider.Sqlite, "orders", "UPDATE")]
    [InlineData(DatabaseProvider.SqlServer, "outbox_messages", "INSERT")]
    [InlineData(DatabaseProvider.SqlServer, "orders", "UPDATE")]
    public async Task Confirm_WhoseSaveFails_LeavesNeitherTheConfirmationNorAnOutboxRow(DatabaseProvider provider, string table, string write)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var app = await StartAsync(database);
        var draft = await SendAsync(app, new CreateOrderCommand("customer-1", 10.00m, "EUR"));

        await app.WithDb(db => db.Database.ExecuteSqlRawAsync(RefuseSql(provider, table, write), TestContext.Current.CancellationToken));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var failure = await Should.ThrowAsync<DbUpdateException>(async () =>
                await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ConfirmOrderCommand(draft.Id), TestContext.Current.CancellationToken));
            failure.ToString().ShouldContain(RefusedBy);

            // The handler did write the row, into the very context whose save failed.
            var pending = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>().ChangeTracker.Entries<OutboxMessage>().ShouldHaveSingleItem();
            pending.State.ShouldBe(EntityState.Added);
            pending.Entity.OrderId.ShouldBe(draft.Id);
        }

        var (order, rows) = await ReadAsync(app, draft.Id);
        order.Status.ShouldBe(OrderStatus.Draft);
        order.ExportSequence.ShouldBe(0);
        order.Version.ShouldBe(0);
        rows.ShouldBeEmpty();

        await app.WithDb(db => db.Database.ExecuteSqlRawAsync(AllowSql(provider, table), TestContext.Current.CancellationToken));
        var confirmed = await SendAsync(app, new ConfirmOrderCommand(draft.Id));

        confirmed.ShouldNotBeNull().Status.ShouldBe(OrderStatus.Confirmed);
        (order, rows) = await ReadAsync(app, draft.Id);
        order.Status.ShouldBe(OrderStatus.Confirmed);
        order.ExportSequence.ShouldBe(1);
        var row = rows.ShouldHaveSingleItem();
        row.EventType.ShouldBe(OrderExportRequested.EventType);
        row.OccurredAtUtc.ShouldBe(order.ConfirmedAtUtc!.Value);
    }

    /// <summary>
    /// Confirmations of one order racing each other: one wins, the others lose the optimistic
    /// check, look again and find it confirmed. One confirmation, one outbox row, all answer 200.
    /// </summary>
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ConcurrentConfirms_WriteOneOutboxRow(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var app = await StartAsync(database);
        var http = app.Start();
        var draft = await SendAsync(app, new CreateOrderCommand("customer-1", 10.00m, "EUR"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            http.PostAsJsonAsync("/orders/confirm", new { orderId = draft.Id }, TestContext.Current.CancellationToken)));

        foreach (var response in responses)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await response.Content.ReadFromJsonAsync<OrderResponse>(OrdersClient.Json, TestContext.Current.CancellationToken))!
                .ExportSequence.ShouldBe(1);
        }

        var (order, rows) = await ReadAsync(app, draft.Id);
        order.Status.ShouldBe(OrderStatus.Confirmed);
        order.ExportSequence.ShouldBe(1);
        rows.ShouldHaveSingleItem();
    }

    /// <summary>Handlers run asynchronously: a synchronous save with pending events refuses, and writes nothing.</summary>
    [Fact]
    public async Task SynchronousSaveChanges_WithPendingEvents_ThrowsAndWritesNothing()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var app = await StartAsync(database);
        var order = ConfirmedOrder();

        await app.WithDb(db =>
        {
            db.Orders.Add(order);
            Should.Throw<InvalidOperationException>(() => db.SaveChanges()).Message.ShouldContain("SaveChangesAsync");
            return Task.FromResult(0);
        });

        await ShouldHaveWrittenNothingAsync(app);
    }

    /// <summary>
    /// The handler writes to its scope's DbContext: saving another context with the same options
    /// would put the event in a different unit of work, so the interceptor refuses.
    /// </summary>
    [Fact]
    public async Task ContextThatIsNotTheScopes_IsRefusedAndWritesNothing()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var app = await StartAsync(database);
        var order = ConfirmedOrder();

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await using var foreign = new OrderExportDbContext(
                scope.ServiceProvider.GetRequiredService<DbContextOptions<OrderExportDbContext>>());
            foreign.Orders.Add(order);
            await Should.ThrowAsync<InvalidOperationException>(() => foreign.SaveChangesAsync(TestContext.Current.CancellationToken));
        }

        await ShouldHaveWrittenNothingAsync(app);
    }

    private async Task<OrderExportApp> StartAsync(TestDatabase database)
    {
        // Rows stay in the outbox where the test can count them; nothing needs the broker here.
        var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), database.Provider, database.ConnectionString,
            new Dictionary<string, string?> { ["Outbox:RelayEnabled"] = "false", ["Consumer:Enabled"] = "false" });
        app.Start();
        return app;
    }

    private static Order ConfirmedOrder()
    {
        var order = Order.Create("customer-1", 10.00m, "EUR", DateTime.UtcNow);
        order.Confirm(DateTime.UtcNow);
        return order;
    }

    private static async Task ShouldHaveWrittenNothingAsync(OrderExportApp app)
    {
        (await app.WithDb(db => db.Orders.AnyAsync(TestContext.Current.CancellationToken))).ShouldBeFalse();
        (await app.WithDb(db => db.OutboxMessages.AnyAsync(TestContext.Current.CancellationToken))).ShouldBeFalse();
    }

    private static async Task<T> SendAsync<T>(OrderExportApp app, ICommand<T> command)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command, TestContext.Current.CancellationToken);
    }

    private static Task<(Order Order, List<OutboxMessage> Rows)> ReadAsync(OrderExportApp app, Guid orderId) =>
        app.WithDb(async db => (
            await db.Orders.AsNoTracking().SingleAsync(o => o.Id == orderId, TestContext.Current.CancellationToken),
            await db.OutboxMessages.AsNoTracking().Where(m => m.OrderId == orderId).ToListAsync(TestContext.Current.CancellationToken)));

    /// <summary>A trigger that fails <paramref name="write"/> on <paramref name="table"/> after the row was written.</summary>
    private static string RefuseSql(DatabaseProvider provider, string table, string write) => provider switch
    {
        DatabaseProvider.Postgres => $"""
            CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{RefusedBy}'; END $$;
            CREATE TRIGGER refuse_write AFTER {write} ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_write();
            """,
        // CREATE TRIGGER must be alone in its T-SQL batch; THROW rolls the statement's transaction back.
        DatabaseProvider.SqlServer => $"CREATE TRIGGER refuse_write ON {table} AFTER {write} AS THROW 50000, N'{RefusedBy}', 1;",
        _ => $"CREATE TRIGGER refuse_write AFTER {write} ON {table} BEGIN SELECT RAISE(ABORT, '{RefusedBy}'); END;",
    };

    private static string AllowSql(DatabaseProvider provider, string table) => provider == DatabaseProvider.Postgres
        ? $"DROP TRIGGER refuse_write ON {table}; DROP FUNCTION refuse_write();"
        : "DROP TRIGGER refuse_write;";
}
