using System.Data.Common;
using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>
/// The consumer's checks for a fetched batch (already handled? order held by a dead letter or
/// parked events?) answered by one query, on each database.
/// </summary>
public sealed class PriorChecksTests(KafkaTestBroker broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ABatch_IsCheckedInOneQuery_AndEachRecordGetsItsOwnAnswer(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var commands = new CommandCounter();
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), provider, database.ConnectionString,
            new Dictionary<string, string?> { ["Consumer:Enabled"] = "false", ["Outbox:RelayEnabled"] = "false" },
            services => services.ConfigureDbContext<OrderExportDbContext>(o => o.AddInterceptors(commands)));
        app.Start();

        var exported = (Event: Guid.NewGuid(), Order: Guid.NewGuid());
        var parked = (Event: Guid.NewGuid(), Order: Guid.NewGuid());
        var behindParked = (Event: Guid.NewGuid(), Order: parked.Order);
        var deadLettered = (Event: Guid.NewGuid(), Order: Guid.NewGuid());
        var behindDeadLetter = (Event: Guid.NewGuid(), Order: deadLettered.Order);
        var fresh = (Event: Guid.NewGuid(), Order: Guid.NewGuid());
        var discardedOrder = (Event: Guid.NewGuid(), Order: Guid.NewGuid());
        await app.WithDb(db =>
        {
            db.InboxMessages.Add(new InboxMessage { EventId = exported.Event, OrderId = exported.Order, Outcome = InboxOutcome.Exported, HandledAtUtc = DateTime.UtcNow });
            db.ParkedMessages.Add(new ParkedMessage { EventId = parked.Event, OrderId = parked.Order, Topic = "t", Payload = "{}", ParkedAtUtc = DateTime.UtcNow });
            db.DeadLetters.Add(DeadLetterOf(deadLettered.Order));
            var discarded = DeadLetterOf(discardedOrder.Order);
            discarded.Discard(DateTime.UtcNow).ShouldBeTrue();
            db.DeadLetters.Add(discarded);
            return db.SaveChangesAsync(Ct);
        });

        ConsumeResult<byte[], byte[]>[] records =
        [
            Record(0, exported.Order, exported.Event),
            Record(1, parked.Order, parked.Event),
            Record(2, behindParked.Order, behindParked.Event),
            Record(3, behindDeadLetter.Order, behindDeadLetter.Event),
            Record(4, fresh.Order, fresh.Event),
            Record(5, discardedOrder.Order, discardedOrder.Event),
            Record(6, fresh.Order, Guid.NewGuid(), (ControlHeaders.ReleaseOrder, fresh.Order.ToString())),
            Record(7, Guid.NewGuid(), eventId: null),
        ];

        var before = commands.Count;
        var checks = await app.Service<PriorChecks>().CheckAsync(records, Ct);
        (commands.Count - before).ShouldBe(1, "the whole batch is checked in one query");

        checks.ShouldBe(
        [
            new PriorCheck(exported.Event, exported.Order, Handled: true),
            new PriorCheck(parked.Event, parked.Order, Handled: true),
            null, // its order has a parked event: looked at alone, when its turn comes
            null, // its order has an unresolved dead letter
            new PriorCheck(fresh.Event, fresh.Order, Handled: false),
            new PriorCheck(discardedOrder.Event, discardedOrder.Order, Handled: false), // a discarded dead letter holds nothing
            null, // a control record
            null, // no event-id header
        ]);
    }

    private static DeadLetter DeadLetterOf(Guid orderId) => new()
    {
        EventId = Guid.NewGuid(),
        OrderId = orderId,
        Topic = "t",
        ErrorType = "PermanentFailure",
        ErrorMessage = "refused",
        Payload = "{}",
        CreatedAtUtc = DateTime.UtcNow,
        FirstFailureAtUtc = DateTime.UtcNow,
        LastFailureAtUtc = DateTime.UtcNow,
    };

    private static ConsumeResult<byte[], byte[]> Record(long offset, Guid orderId, Guid? eventId, params (string Name, string Value)[] extra)
    {
        var headers = new Headers();
        if (eventId is { } id)
        {
            headers.Add(MessageHeaders.EventId, Encoding.UTF8.GetBytes(id.ToString()));
        }

        foreach (var (name, value) in extra)
        {
            headers.Add(name, Encoding.UTF8.GetBytes(value));
        }

        return new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset("order-export", 0, offset),
            Message = new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(orderId.ToString()), Value = [], Headers = headers },
        };
    }

    private sealed class CommandCounter : DbCommandInterceptor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }
}
