using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using OrderExport.Messaging;
using OrderExport.Orders;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// The record the service puts on <c>order-export</c> for one confirmed order, built the way
/// Outbox/OrderExportRequestedHandler.cs and OutboxRelay.ToKafkaMessage build it (web JSON
/// defaults, key = order id, headers event-id and event-type), for the baselines that publish
/// without the outbox and for seeding backlogs.
/// </summary>
internal static class Envelopes
{
    public static OrderExportRequested SampleEvent(int i, DateTime nowUtc) =>
        new(Guid.CreateVersion7(), nowUtc, Guid.CreateVersion7(), 1, $"customer-{i % 1000}", 129.90m, "EUR");

    public static string Json(OrderExportRequested e)
    {
        var payload = JsonSerializer.SerializeToElement(
            new OrderExportRequestedPayload(e.OrderId, e.Sequence, e.CustomerId, e.Amount, e.Currency), JsonSerializerOptions.Web);
        var envelope = new MessageEnvelope(
            e.EventId, OrderExportRequested.EventType, OrderExportRequested.SchemaVersion, e.OccurredAtUtc, e.OrderId, null, null, payload);
        return JsonSerializer.Serialize(envelope, JsonSerializerOptions.Web);
    }

    public static Message<string, byte[]> ToKafka(Guid orderId, Guid eventId, string json) => new()
    {
        Key = orderId.ToString(),
        Value = Encoding.UTF8.GetBytes(json),
        Headers = new Headers
        {
            { MessageHeaders.EventId, Encoding.UTF8.GetBytes(eventId.ToString()) },
            { MessageHeaders.EventType, Encoding.UTF8.GetBytes(OrderExportRequested.EventType) },
        },
    };

    public static Message<string, byte[]> ToKafka(OrderExportRequested e) => ToKafka(e.OrderId, e.EventId, Json(e));
}
