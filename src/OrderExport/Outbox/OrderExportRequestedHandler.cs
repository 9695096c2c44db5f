using System.Diagnostics;
using System.Text.Json;
using Mediator;
using OrderExport.Messaging;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Outbox;

/// <summary>
/// Writes <see cref="OrderExportRequested"/> to the outbox, in the aggregate's own SaveChanges.
/// Mediator calls it while <see cref="DomainEventsInterceptor"/> publishes the events of the
/// context being saved; <paramref name="db"/> is that very context (the scope's one: the
/// interceptor checks it), so the row only joins the pending changes and commits, or rolls
/// back, with the order. It must not save: SaveChanges is already under way.
/// </summary>
internal sealed class OrderExportRequestedHandler(OrderExportDbContext db, TimeProvider time)
    : INotificationHandler<OrderExportRequested>
{
    public ValueTask Handle(OrderExportRequested e, CancellationToken cancellationToken)
    {
        // The trace of the request that confirmed the order continues in the relay and the consumer:
        // the outbox row keeps this span's context.
        using var activity = OrderExportActivities.Source.StartActivity($"{OrderExportRequested.EventType} outbox write");
        activity?.SetTag("orderexport.order_id", e.OrderId.ToString()).SetTag("messaging.message.id", e.EventId.ToString());
        var current = activity ?? Activity.Current;
        var (traceParent, traceState) = OrderExportActivities.Context(current);

        var payload = JsonSerializer.SerializeToElement(
            new OrderExportRequestedPayload(e.OrderId, e.Sequence, e.CustomerId, e.Amount, e.Currency),
            MessagingJsonContext.Default.OrderExportRequestedPayload);
        var envelope = new MessageEnvelope(
            e.EventId, OrderExportRequested.EventType, OrderExportRequested.SchemaVersion,
            e.OccurredAtUtc, e.OrderId, traceParent, traceState, payload);

        db.OutboxMessages.Add(new OutboxMessage
        {
            EventId = e.EventId,
            OrderId = e.OrderId,
            EventType = OrderExportRequested.EventType,
            SchemaVersion = OrderExportRequested.SchemaVersion,
            OccurredAtUtc = e.OccurredAtUtc,
            Payload = JsonSerializer.Serialize(envelope, MessagingJsonContext.Default.MessageEnvelope),
            TraceParent = traceParent,
            TraceState = traceState,
            CreatedAtUtc = time.GetUtcNow().UtcDateTime,
        });
        return ValueTask.CompletedTask;
    }
}
