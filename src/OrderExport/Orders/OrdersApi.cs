using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Api;
using OrderExport.Export;
using OrderExport.Health;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Orders;

/// <summary>
/// The orders API:
/// <list type="bullet">
/// <item><c>POST /orders</c>: create a draft order</item>
/// <item><c>POST /orders/confirm</c>: confirm it (idempotent) and request its export</item>
/// <item><c>GET /orders/{id}</c>: the order with its export status</item>
/// <item><c>POST /orders/{id}/exports</c>: request another export of a confirmed order</item>
/// </list>
/// </summary>
public static class OrdersApi
{
    /// <summary>Bodies are a few hundred bytes; anything far larger is refused before it is read.</summary>
    public const long MaxRequestBodyBytes = 16 * 1024;

    private const int ConcurrencyRetries = 3;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/orders")
            .WithTags("Orders")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        orders.MapPost("/", CreateOrder).WithName(nameof(CreateOrder));
        orders.MapPost("/confirm", ConfirmOrder).WithName(nameof(ConfirmOrder)).ProducesProblem(StatusCodes.Status404NotFound);
        orders.MapGet("/{id:guid}", GetOrder).WithName(nameof(GetOrder)).ProducesProblem(StatusCodes.Status404NotFound);
        orders.MapPost("/{id:guid}/exports", RequestExport).WithName(nameof(RequestExport))
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Results<Created<OrderResponse>, ProblemHttpResult>> CreateOrder(
        CreateOrderRequest request, OrderExportDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        // The attributes on CreateOrderRequest were checked before we got here. Amounts are never
        // rounded silently: a third decimal is an error.
        if (decimal.Round(request.Amount!.Value, 2) != request.Amount.Value)
        {
            return Problems.ValidationFailed(nameof(request.Amount), "The field Amount must have at most two decimals.");
        }

        var order = Order.Create(request.CustomerId!, request.Amount!.Value, request.Currency!, time.GetUtcNow().UtcDateTime);
        db.Orders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/orders/{order.Id}", OrderResponse.From(order, order.ExportStatus));
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> ConfirmOrder(
        ConfirmOrderRequest request, OrderExportDbContext db, TimeProvider time, OrderExportMetrics metrics, CancellationToken cancellationToken)
    {
        var orderId = request.OrderId!.Value;
        for (var attempt = 1; ; attempt++)
        {
            var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == orderId, cancellationToken);
            if (order is null)
            {
                return Problems.OrderNotFoundResult(orderId);
            }

            try
            {
                if (order.Confirm(time.GetUtcNow().UtcDateTime))
                {
                    await db.SaveChangesAsync(cancellationToken);
                    metrics.OrderConfirmed();
                }

                return TypedResults.Ok(OrderResponse.From(order, await ExportStatusOf(db, order, cancellationToken)));
            }
            catch (DbUpdateConcurrencyException) when (attempt < ConcurrencyRetries)
            {
                // Someone confirmed it at the same time: look again; Confirm() will then be a no-op.
                db.ChangeTracker.Clear();
            }
        }
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetOrder(
        Guid id, OrderExportDbContext db, ConsumerProgress consumer, IOptions<HealthOptions> health, CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id, cancellationToken);
        if (order is null)
        {
            return Problems.OrderNotFoundResult(id);
        }

        var status = await ExportStatusOf(db, order, cancellationToken);
        var waiting = status == ExportStatus.Published ? consumer.ExplainWait(order.Id, health.Value.ConsumerStallAfter) : null;
        return TypedResults.Ok(OrderResponse.From(order, status, waiting));
    }

    public static async Task<Results<Accepted<OrderResponse>, ProblemHttpResult>> RequestExport(
        Guid id, OrderExportDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == id, cancellationToken);
            if (order is null)
            {
                return Problems.OrderNotFoundResult(id);
            }

            if (order.Status != OrderStatus.Confirmed)
            {
                return TypedResults.Problem(
                    title: "Order not confirmed", detail: $"Order {id} is {order.Status}; confirm it first.",
                    statusCode: StatusCodes.Status409Conflict, type: Problems.OrderNotConfirmed);
            }

            try
            {
                order.RequestExport(time.GetUtcNow().UtcDateTime);
                await db.SaveChangesAsync(cancellationToken);
                return TypedResults.Accepted($"/orders/{id}", OrderResponse.From(order, order.ExportStatus));
            }
            catch (DbUpdateConcurrencyException) when (attempt < ConcurrencyRetries)
            {
                // The consumer recorded an outcome, or another request was faster: nothing of
                // ours was written; ask again on the new state.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// The consumer records Exported/DeadLettered on the order; "Published" is read from the
    /// outbox so the relay never has to touch order rows.
    /// </summary>
    private static async Task<ExportStatus> ExportStatusOf(OrderExportDbContext db, Order order, CancellationToken cancellationToken)
    {
        if (order.ExportStatus != ExportStatus.Pending)
        {
            return order.ExportStatus;
        }

        var unpublished = await db.OutboxMessages.AnyAsync(m => m.OrderId == order.Id && m.PublishedAtUtc == null, cancellationToken);
        return unpublished ? ExportStatus.Pending : ExportStatus.Published;
    }
}
