using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using OrderExport.Api;

namespace OrderExport.Orders;

/// <summary>
/// The orders API:
/// <list type="bullet">
/// <item><c>POST /orders</c>: create a draft order</item>
/// <item><c>POST /orders/confirm</c>: confirm it (idempotent) and request its export</item>
/// <item><c>GET /orders/{id}</c>: the order with its export status</item>
/// <item><c>POST /orders/{id}/exports</c>: request another export of a confirmed order</item>
/// </list>
/// Each endpoint turns HTTP into a command or query and its answer back into HTTP; the use
/// cases themselves are Mediator handlers (OrderHandlers.cs).
/// </summary>
public static class OrdersApi
{
    /// <summary>Bodies are a few hundred bytes; anything far larger is refused before it is read.</summary>
    public const long MaxRequestBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/orders")
            .WithTags("Orders")
            .WithRequestBodyLimit(MaxRequestBodyBytes)
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
        CreateOrderRequest request, ISender sender, CancellationToken cancellationToken)
    {
        // The attributes on CreateOrderRequest were checked before we got here. Amounts are never
        // rounded silently: a third decimal is an error.
        if (decimal.Round(request.Amount!.Value, 2) != request.Amount.Value)
        {
            return Problems.ValidationFailed(nameof(request.Amount), "The field Amount must have at most two decimals.");
        }

        var order = await sender.Send(new CreateOrderCommand(request.CustomerId!, request.Amount!.Value, request.Currency!), cancellationToken);
        return TypedResults.Created($"/orders/{order.Id}", order);
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> ConfirmOrder(
        ConfirmOrderRequest request, ISender sender, CancellationToken cancellationToken)
    {
        var orderId = request.OrderId!.Value;
        var order = await sender.Send(new ConfirmOrderCommand(orderId), cancellationToken);
        return order is null ? Problems.OrderNotFoundResult(orderId) : TypedResults.Ok(order);
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetOrder(
        Guid id, ISender sender, CancellationToken cancellationToken)
    {
        var order = await sender.Send(new GetOrderQuery(id), cancellationToken);
        return order is null ? Problems.OrderNotFoundResult(id) : TypedResults.Ok(order);
    }

    public static async Task<Results<Accepted<OrderResponse>, ProblemHttpResult>> RequestExport(
        Guid id, ISender sender, CancellationToken cancellationToken)
    {
        var order = await sender.Send(new RequestOrderExportCommand(id), cancellationToken);
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

        return TypedResults.Accepted($"/orders/{id}", order);
    }
}
