using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrderExport.Outbox;

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

/// <summary>Kafka header names carried by every record.</summary>
public static class MessageHeaders
{
    public const string EventId = "event-id";
    public const string EventType = "event-type";
    public const string SchemaVersion = "schema-version";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MessageEnvelope))]
[JsonSerializable(typeof(OrderExportRequestedPayload))]
internal sealed partial class MessagingJsonContext : JsonSerializerContext;

/// <summary>
/// Headers of control records that operators' actions put on <c>order-export</c> (same key as
/// the order, so they queue behind the order's earlier records on its partition).
/// </summary>
public static class ControlHeaders
{
    /// <summary>The record is a replay of the dead letter with this id; its value is the original record's.</summary>
    public const string ReplayOf = "orderexport-replay-of";

    /// <summary>Release the parked events of this order (its dead letter was discarded).</summary>
    public const string ReleaseOrder = "orderexport-release-order";
}
