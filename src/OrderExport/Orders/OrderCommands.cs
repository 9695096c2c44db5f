using Mediator;

namespace OrderExport.Orders;

// The order use cases, which Orders/OrdersApi.cs sends through Mediator's ISender (where the
// Spring original's controller called OrderService). Their handlers are in OrderHandlers.cs.

/// <summary>Creates a draft order. The endpoint has validated the values.</summary>
public sealed record CreateOrderCommand(string CustomerId, decimal Amount, string Currency) : ICommand<OrderResponse>;

/// <summary>
/// Confirms an order and requests its export; confirming a confirmed order changes nothing.
/// Answers the order as it now stands, or null when there is no such order.
/// </summary>
public sealed record ConfirmOrderCommand(Guid OrderId) : ICommand<OrderResponse?>;

/// <summary>
/// Requests another export of a confirmed order. Answers the order after the request, null when
/// there is no such order, and an order that is not confirmed as it stands, with nothing requested.
/// </summary>
public sealed record RequestOrderExportCommand(Guid OrderId) : ICommand<OrderResponse?>;

/// <summary>The order with its export status, and why its export waits when this instance knows; null when there is no such order.</summary>
public sealed record GetOrderQuery(Guid OrderId) : IQuery<OrderResponse?>;
