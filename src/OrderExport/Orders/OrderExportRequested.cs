using Mediator;
using OrderExport.Domain;

namespace OrderExport.Orders;

/// <summary>
/// Raised when an order must be exported to the external platform: on confirmation, and on
/// every explicit re-export request. <see cref="Sequence"/> counts an order's export requests
/// (1, 2, ...) so consumers can see that per-order order was kept.
/// A domain event, and a Mediator notification: Persistence/DomainEventsInterceptor.cs publishes it
/// inside the SaveChanges of the order that raised it, and Outbox/OrderExportRequestedHandler.cs
/// turns it into the outbox row of that same transaction.
/// </summary>
public sealed record OrderExportRequested(
    Guid EventId,
    DateTime OccurredAtUtc,
    Guid OrderId,
    int Sequence,
    string CustomerId,
    decimal Amount,
    string Currency) : IDomainEvent, INotification
{
    public const string EventType = "OrderExportRequested";
    public const int SchemaVersion = 1;
}
