using Confluent.Kafka;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>The two ways an order gets confirmed here: the service's outbox write, and the Spring sample's direct publish.</summary>
internal static class OrderWrites
{
    private static int _sequence;

    /// <summary>
    /// The service's write path, as the endpoints take it: <see cref="CreateOrderCommand"/>, then
    /// <see cref="ConfirmOrderCommand"/>, each sent through Mediator in a DI scope of its own (as two
    /// requests, POST /orders and POST /orders/confirm, would be). The confirm's one SaveChanges
    /// updates the order and, through the domain-event interceptor and its Mediator handler, inserts
    /// its outbox row in the same transaction; the interceptor then wakes the relay.
    /// </summary>
    public static async Task<Guid> ConfirmAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var draft = await SendAsync(services, new CreateOrderCommand(NextCustomer(), 129.90m, "EUR"), cancellationToken);
        await SendAsync(services, new ConfirmOrderCommand(draft.Id), cancellationToken);
        return draft.Id;
    }

    /// <summary>
    /// The original Spring sample: commit the order (no outbox row: a context without the
    /// interceptor), then publish the event directly. Returns when the commit is done, with the
    /// broker's acknowledgement still in flight (an after-commit listener does not block on it).
    /// </summary>
    public static async Task<(Guid OrderId, DateTime CommittedUtc, Task<DeliveryResult<string, byte[]>> Ack)> CommitThenPublishAsync(
        DbContextOptions<OrderExportDbContext> withoutInterceptor, IProducer<string, byte[]> producer, string topic,
        CancellationToken cancellationToken = default)
    {
        await using var db = new OrderExportDbContext(withoutInterceptor);
        var order = NewConfirmedOrder();
        db.Orders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        var committed = DateTime.UtcNow;
        var exportRequested = order.DomainEvents.OfType<OrderExportRequested>().Single();
        // Not cancellable: once committed, the sample's listener sends whatever happens to the request.
        return (order.Id, committed, producer.ProduceAsync(topic, Envelopes.ToKafka(exportRequested), CancellationToken.None));
    }

    public static DbContextOptions<OrderExportDbContext> WithoutInterceptor(BenchDatabase database)
    {
        var builder = new DbContextOptionsBuilder<OrderExportDbContext>();
        _ = database.Provider == DatabaseProvider.Postgres
            ? builder.UseNpgsql(database.ConnectionString)
            : builder.UseSqlite(database.ConnectionString);
        return builder.Options;
    }

    private static async Task<T> SendAsync<T>(IServiceProvider services, ICommand<T> command, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command, cancellationToken);
    }

    private static Order NewConfirmedOrder()
    {
        var now = DateTime.UtcNow;
        var order = Order.Create(NextCustomer(), 129.90m, "EUR", now);
        order.Confirm(now);
        return order;
    }

    private static string NextCustomer() => $"customer-{Interlocked.Increment(ref _sequence) % 1000}";
}
