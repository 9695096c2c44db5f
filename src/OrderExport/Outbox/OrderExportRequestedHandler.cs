using System.Diagnostics;
using System.Text.Json;
using OrderExport.Domain;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.Outbox;

/// <summary>Writes <see cref="OrderExportRequested"/> to the outbox, in the aggregate's own SaveChanges.</summary>
internal sealed class OrderExportRequestedHandler(TimeProvider time) : DomainEventHandler<OrderExportRequested>
{
    protected override void Handle(OrderExportRequested e, OrderExportDbContext db)
    {
        // The trace of the request that confirmed the order continues in the relay and the consumer.
        var activity = Activity.Current;
        var traceParent = activity?.Id is { } id && activity.IdFormat == ActivityIdFormat.W3C ? id : null;
        var traceState = activity?.TraceStateString;

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
    }
}
