using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>
/// The group commit of exported events' bookkeeping (inbox row + order status), on PostgreSQL. A
/// transaction is held open on one order's row, so the bookkeeping writer waits inside its first
/// transaction while the other events queue up behind it: what it does with them is then certain.
/// </summary>
public sealed class ExportBookkeepingTests(KafkaTestBroker broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EventsFinishedMeanwhile_ShareOneTransaction_AndEachCallerReturnsOnlyAfterItsCommit()
    {
        await using var fixture = await Fixture.StartAsync(broker);
        var (blocker, others) = (fixture.Orders[0], fixture.Orders[1..]);

        Task first, rest;
        await using (await fixture.LockAsync(blocker))
        {
            first = await fixture.RecordFirstAsync(blocker);
            rest = Task.WhenAll(others.Select(fixture.RecordAsync));
            await Eventually.True(() => Task.FromResult(fixture.Bookkeeping.Waiting == others.Length),
                because: "the other events queue behind the transaction that waits on the lock");
            first.IsCompleted.ShouldBeFalse("its transaction has not committed");
            rest.IsCompleted.ShouldBeFalse("their transaction has not begun");
            (await fixture.ExportedAsync()).ShouldBeEmpty("nothing is committed while the lock is held");
        }

        await Task.WhenAll(first, rest);
        (await fixture.ExportedAsync()).ShouldBe(fixture.Orders, ignoreOrder: true);
        (await fixture.InboxAsync()).Count.ShouldBe(fixture.Orders.Length);
        fixture.Batches().ShouldBe([1, others.Length], "the blocked event alone, then everything that queued behind it in one transaction");
    }

    [Fact]
    public async Task OneEventThatConflicts_FailsAlone_AndTheOthersOfItsBatchAreCommitted()
    {
        await using var fixture = await Fixture.StartAsync(broker);
        var (blocker, conflicting) = (fixture.Orders[0], fixture.Orders[3]);
        // Another instance already recorded this event (a partition that moved mid-flight, say).
        var taken = fixture.EventOf(conflicting);
        await fixture.App.WithDb(db =>
        {
            db.InboxMessages.Add(new InboxMessage { EventId = taken, OrderId = conflicting, Outcome = InboxOutcome.Exported, HandledAtUtc = DateTime.UtcNow });
            return db.SaveChangesAsync(Ct);
        });

        Task first;
        Task[] rest;
        await using (await fixture.LockAsync(blocker))
        {
            first = await fixture.RecordFirstAsync(blocker);
            rest = [.. fixture.Orders[1..].Select(fixture.RecordAsync)];
            await Eventually.True(() => Task.FromResult(fixture.Bookkeeping.Waiting == rest.Length), because: "the others queue behind the lock");
        }

        await first;
        var failure = await Should.ThrowAsync<DbUpdateException>(() => rest[Array.IndexOf(fixture.Orders, conflicting) - 1]);
        failure.InnerException.ShouldBeOfType<Npgsql.PostgresException>().SqlState.ShouldBe("23505");
        await Task.WhenAll(rest.Where(t => !t.IsFaulted));
        rest.Count(t => t.IsFaulted).ShouldBe(1);

        (await fixture.ExportedAsync()).ShouldBe(fixture.Orders.Where(o => o != conflicting), ignoreOrder: true);
        fixture.Batches().ShouldBe([1, .. Enumerable.Repeat(1, rest.Length - 1)], "the batch failed, then each event was written alone; the conflicting one failed");
    }

    /// <summary>A service whose consumer is off (so only the test writes bookkeeping) and 12 confirmed orders.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly TestDatabase _database;
        private readonly MetricsRecorder _metrics;
        private readonly Dictionary<Guid, Guid> _events = [];

        private Fixture(TestDatabase database, OrderExportApp app, Guid[] orders)
        {
            (_database, App, Orders) = (database, app, orders);
            _metrics = new MetricsRecorder(app.Service<IMeterFactory>());
            Bookkeeping = app.Service<ExportBookkeeping>();
        }

        public OrderExportApp App { get; }

        public Guid[] Orders { get; }

        public ExportBookkeeping Bookkeeping { get; }

        public static async Task<Fixture> StartAsync(KafkaTestBroker broker)
        {
            var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
            var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString,
                new Dictionary<string, string?> { ["Consumer:Enabled"] = "false" });
            var orders = new OrdersClient(app.Start());
            var ids = new List<Guid>();
            for (var i = 0; i < 12; i++)
            {
                ids.Add((await orders.CreateConfirmedAsync($"customer-{i}")).Id);
            }

            return new Fixture(database, app, [.. ids]);
        }

        public Guid EventOf(Guid order) => _events.TryGetValue(order, out var id) ? id : _events[order] = Guid.NewGuid();

        public Task RecordAsync(Guid order) => Bookkeeping.RecordExportedAsync(
            new InboxMessage { EventId = EventOf(order), OrderId = order, Outcome = InboxOutcome.Exported, HandledAtUtc = DateTime.UtcNow },
            sequence: 1, Ct);

        /// <summary>Records the order's event and waits until the writer's transaction waits on the row lock.</summary>
        public async Task<Task> RecordFirstAsync(Guid order)
        {
            var recorded = RecordAsync(order);
            await Eventually.True(async () => await App.WithDb(db => db.Database
                    .SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                    .SingleAsync(Ct)) > 0,
                because: "the writer's first transaction waits on the lock");
            return recorded;
        }

        /// <summary>Holds a row lock on the order until disposed, in a transaction of its own.</summary>
        public async Task<IAsyncDisposable> LockAsync(Guid order)
        {
            var scope = App.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            var transaction = await db.Database.BeginTransactionAsync(Ct);
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM orders WHERE id = {order} FOR UPDATE", Ct);
            return new Lock(scope, transaction);
        }

        public Task<List<Guid>> ExportedAsync() => App.WithDb(db =>
            db.Orders.Where(o => o.ExportStatus == ExportStatus.Exported).Select(o => o.Id).ToListAsync(Ct));

        public Task<List<Guid>> InboxAsync() => App.WithDb(db => db.InboxMessages.Select(m => m.EventId).ToListAsync(Ct));

        public List<int> Batches() => [.. _metrics.Values("orderexport.consumer.bookkeeping_batch").Select(v => (int)v)];

        public async ValueTask DisposeAsync()
        {
            _metrics.Dispose();
            await App.DisposeAsync();
            await _database.DisposeAsync();
        }

        private sealed class Lock(AsyncServiceScope scope, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction) : IAsyncDisposable
        {
            public async ValueTask DisposeAsync()
            {
                await transaction.CommitAsync(Ct);
                await scope.DisposeAsync();
            }
        }
    }
}
