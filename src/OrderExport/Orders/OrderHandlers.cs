using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Export;
using OrderExport.Health;
using OrderExport.Persistence;

namespace OrderExport.Orders;

// Each command handler works on its scope's DbContext and saves once; the order's domain
// events become outbox rows inside that save (Persistence/DomainEventsInterceptor.cs).

internal sealed class CreateOrderHandler(OrderExportDbContext db, TimeProvider time)
    : ICommandHandler<CreateOrderCommand, OrderResponse>
{
    public async ValueTask<OrderResponse> Handle(CreateOrderCommand command, CancellationToken cancellationToken)
    {
        var order = Order.Create(command.CustomerId, command.Amount, command.Currency, time.GetUtcNow().UtcDateTime);
        db.Orders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        return OrderResponse.From(order, order.ExportStatus);
    }
}

internal sealed class ConfirmOrderHandler(OrderExportDbContext db, TimeProvider time)
    : ICommandHandler<ConfirmOrderCommand, OrderResponse?>
{
    // Someone confirmed it at the same time: look again; Confirm() will then be a no-op.
    public async ValueTask<OrderResponse?> Handle(ConfirmOrderCommand command, CancellationToken cancellationToken) =>
        await OptimisticRetry.RunAsync(db, async () =>
        {
            var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == command.OrderId, cancellationToken);
            if (order is null)
            {
                return null;
            }

            if (order.Confirm(time.GetUtcNow().UtcDateTime))
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            return OrderResponse.From(order, await OrderExportStatus.ReadAsync(db, order, cancellationToken));
        });
}

internal sealed class RequestOrderExportHandler(OrderExportDbContext db, TimeProvider time)
    : ICommandHandler<RequestOrderExportCommand, OrderResponse?>
{
    // The consumer recorded an outcome, or another request was faster: nothing of ours was
    // written; ask again on the new state.
    public async ValueTask<OrderResponse?> Handle(RequestOrderExportCommand command, CancellationToken cancellationToken) =>
        await OptimisticRetry.RunAsync(db, async () =>
        {
            var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == command.OrderId, cancellationToken);
            if (order is null)
            {
                return null;
            }

            if (order.Status == OrderStatus.Confirmed)
            {
                order.RequestExport(time.GetUtcNow().UtcDateTime);
                await db.SaveChangesAsync(cancellationToken);
            }

            return OrderResponse.From(order, order.ExportStatus);
        });
}

internal sealed class GetOrderHandler(OrderExportDbContext db, ConsumerProgress consumer, IOptions<HealthOptions> health)
    : IQueryHandler<GetOrderQuery, OrderResponse?>
{
    public async ValueTask<OrderResponse?> Handle(GetOrderQuery query, CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == query.OrderId, cancellationToken);
        if (order is null)
        {
            return null;
        }

        var status = await OrderExportStatus.ReadAsync(db, order, cancellationToken);
        var waiting = status == ExportStatus.Published ? consumer.ExplainWait(order.Id, health.Value.ConsumerStallAfter) : null;
        return OrderResponse.From(order, status, waiting);
    }
}

internal static class OrderExportStatus
{
    /// <summary>
    /// The consumer records Exported/DeadLettered on the order; "Published" is read from the
    /// outbox so the relay never has to touch order rows.
    /// </summary>
    public static async Task<ExportStatus> ReadAsync(OrderExportDbContext db, Order order, CancellationToken cancellationToken)
    {
        if (order.ExportStatus != ExportStatus.Pending)
        {
            return order.ExportStatus;
        }

        var unpublished = await db.OutboxMessages.AnyAsync(m => m.OrderId == order.Id && m.PublishedAtUtc == null, cancellationToken);
        return unpublished ? ExportStatus.Pending : ExportStatus.Published;
    }
}

/// <summary>Optimistic-concurrency retries for a read-decide-save step.</summary>
internal static class OptimisticRetry
{
    public const int Attempts = 3;

    /// <summary>
    /// Runs <paramref name="step"/> and, when its save lost a race (the order's version moved),
    /// clears the change tracker (the unsaved changes and outbox rows with it) and runs it again
    /// on fresh state, up to <see cref="Attempts"/> times; the last conflict propagates (409).
    /// </summary>
    public static async Task<T> RunAsync<T>(DbContext db, Func<Task<T>> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                db.ChangeTracker.Clear();
            }
        }
    }
}
