using Confluent.Kafka;
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
    /// The service's write path: its DbContext from its container (with the domain-event
    /// interceptor), <see cref="Order.Create"/> + <see cref="Order.Confirm"/>, one SaveChanges.
    /// One transaction inserts the order and its outbox row (added by the Mediator handler of
    /// OrderExportRequested, which the interceptor publishes); the interceptor then wakes the relay.
    /// Kept to one transaction, as before Mediator, so the raw-write row stays comparable.
    /// </summary>
    public static async Task<Guid> ConfirmAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var order = NewConfirmedOrder();
        db.Orders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        return order.Id;
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

    private static Order NewConfirmedOrder()
    {
        var now = DateTime.UtcNow;
        var order = Order.Create($"customer-{Interlocked.Increment(ref _sequence) % 1000}", 129.90m, "EUR", now);
        order.Confirm(now);
        return order;
    }
}
