using Mediator;
using Microsoft.EntityFrameworkCore;
using OrderExport.Persistence;
using OrderExport.Telemetry;

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

internal sealed class ConfirmOrderHandler(OrderExportDbContext db, IUnpublishedExports outbox, TimeProvider time, OrderExportMetrics metrics)
    : ICommandHandler<ConfirmOrderCommand, OrderResponse?>
{
    // Someone confirmed it at the same time: look again; Confirm() will then be a no-op.
    public async ValueTask<OrderResponse?> Handle(ConfirmOrderCommand command, CancellationToken cancellationToken) =>
        await OrderChange.RunAsync(db, command.OrderId, async order =>
        {
            if (order.Confirm(time.GetUtcNow().UtcDateTime))
            {
                await db.SaveChangesAsync(cancellationToken);
                // Counted once its save committed (the operations page's confirmed-per-second).
                metrics.OrderConfirmed();
            }

            return OrderResponse.From(order, await OrderExportStatus.ReadAsync(outbox, order, cancellationToken));
        }, cancellationToken);
}

internal sealed class RequestOrderExportHandler(OrderExportDbContext db, TimeProvider time)
    : ICommandHandler<RequestOrderExportCommand, OrderResponse?>
{
    // The consumer recorded an outcome, or another request was faster: nothing of ours was
    // written; ask again on the new state.
    public async ValueTask<OrderResponse?> Handle(RequestOrderExportCommand command, CancellationToken cancellationToken) =>
        await OrderChange.RunAsync(db, command.OrderId, async order =>
        {
            if (order.Status == OrderStatus.Confirmed)
            {
                order.RequestExport(time.GetUtcNow().UtcDateTime);
                await db.SaveChangesAsync(cancellationToken);
            }

            return OrderResponse.From(order, order.ExportStatus);
        }, cancellationToken);
}

internal sealed class GetOrderHandler(OrderExportDbContext db, IUnpublishedExports outbox, IExportWaits waits)
    : IQueryHandler<GetOrderQuery, OrderResponse?>
{
    public async ValueTask<OrderResponse?> Handle(GetOrderQuery query, CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == query.OrderId, cancellationToken);
        if (order is null)
        {
            return null;
        }

        var status = await OrderExportStatus.ReadAsync(outbox, order, cancellationToken);
        var waiting = status == ExportStatus.Published ? waits.Explain(order.Id) : null;
        return OrderResponse.From(order, status, waiting);
    }
}

internal static class OrderExportStatus
{
    /// <summary>
    /// The consumer records Exported/DeadLettered on the order; "Published" is read from the
    /// outbox so the relay never has to touch order rows.
    /// </summary>
    public static async Task<ExportStatus> ReadAsync(IUnpublishedExports outbox, Order order, CancellationToken cancellationToken) =>
        order.ExportStatus != ExportStatus.Pending
            ? order.ExportStatus
            : Of(order.ExportStatus, await outbox.AnyAsync(order.Id, cancellationToken));

    /// <summary>The rule itself, for callers that read the outbox rows their own way (a page of orders, a journey).</summary>
    public static ExportStatus Of(ExportStatus recorded, bool hasUnpublishedRow) =>
        recorded == ExportStatus.Pending && !hasUnpublishedRow ? ExportStatus.Published : recorded;
}

/// <summary>A change to one existing order, with optimistic-concurrency retries.</summary>
internal static class OrderChange
{
    public const int Attempts = 3;

    /// <summary>
    /// Loads the order and hands it to <paramref name="change"/>, which decides and saves; null
    /// when there is no such order. When the save lost a race (the order's version moved), clears
    /// the change tracker (the unsaved changes and outbox rows with it) and runs again on fresh
    /// state, up to <see cref="Attempts"/> times; the last conflict propagates (409).
    /// </summary>
    public static Task<OrderResponse?> RunAsync(
        OrderExportDbContext db, Guid orderId, Func<Order, Task<OrderResponse>> change, CancellationToken cancellationToken) =>
        ConcurrencyRetry.RunAsync<OrderResponse?>(Attempts, async () =>
        {
            var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == orderId, cancellationToken);
            return order is null ? null : await change(order);
        }, beforeRetry: db.ChangeTracker.Clear);
}
