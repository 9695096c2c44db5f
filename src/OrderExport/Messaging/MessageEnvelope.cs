using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrderExport.Messaging;

/// <summary>
/// The versioned wire format of every record on <c>order-export</c>:
/// <code>
/// { "eventId": "…", "type": "OrderExportRequested", "schemaVersion": 1, "occurredAt": "…",
///   "orderId": "…", "traceParent": "00-…", "traceState": null, "payload": { … } }
/// </code>
/// The envelope is stable across event types; <see cref="Payload"/> is read according to
/// <see cref="Type"/> and <see cref="SchemaVersion"/>.
/// </summary>
public sealed record MessageEnvelope(
    Guid EventId,
    string Type,
    int SchemaVersion,
    DateTime OccurredAt,
    Guid OrderId,
    string? TraceParent,
    string? TraceState,
    JsonElement Payload);

/// <summary>Payload of <see cref="Orders.OrderExportRequested"/>, schema version 1.</summary>
public sealed record OrderExportRequestedPayload(
    Guid OrderId,
    int Sequence,
    string CustomerId,
    decimal Amount,
    string Currency);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MessageEnvelope))]
[JsonSerializable(typeof(OrderExportRequestedPayload))]
internal sealed partial class MessagingJsonContext : JsonSerializerContext;
