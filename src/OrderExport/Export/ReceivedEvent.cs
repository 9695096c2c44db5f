using System.Text.Json;
using OrderExport.Messaging;
using OrderExport.Orders;

namespace OrderExport.Export;

/// <summary>A record that was read and understood: the envelope and its typed payload.</summary>
public sealed record ReceivedEvent(MessageEnvelope Envelope, OrderExportRequestedPayload Payload)
{
    public Guid EventId => Envelope.EventId;

    public Guid OrderId => Envelope.OrderId;
}

/// <summary>
/// Why a record could not be read; it goes to the dead-letter topic as it is. When the envelope
/// itself was sound (only its type or schema version is unknown to this version of the service,
/// as in a rolling upgrade), <see cref="EventId"/> and <see cref="OrderId"/> are known and the
/// order is held behind it like behind any other dead letter.
/// </summary>
public sealed record UnreadableRecord(string ErrorType, string Message, Guid? EventId = null, Guid? OrderId = null);

/// <summary>Reads and checks an <c>order-export</c> record against the envelope contract.</summary>
public static class ReceivedEventReader
{
    public const string Malformed = "MalformedMessage";
    public const string UnknownType = "UnknownEventType";
    public const string UnsupportedVersion = "UnsupportedSchemaVersion";

    public static (ReceivedEvent? Event, UnreadableRecord? Error) Read(IncomingRecord record)
    {
        if (record.Value is null || record.Value.Length == 0)
        {
            return (null, new UnreadableRecord(Malformed, "The record has no value."));
        }

        MessageEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(record.Value, MessagingJsonContext.Default.MessageEnvelope);
        }
        catch (JsonException ex)
        {
            return (null, new UnreadableRecord(Malformed, $"The value is not a valid envelope: {ex.Message}"));
        }

        if (envelope is null || envelope.EventId == Guid.Empty || envelope.OrderId == Guid.Empty || envelope.Type is null)
        {
            return (null, new UnreadableRecord(Malformed, "The envelope lacks eventId, orderId or type."));
        }

        if (record.Key is not null && record.KeyText != envelope.OrderId.ToString())
        {
            return (null, new UnreadableRecord(Malformed, $"The record key '{record.KeyText}' is not the envelope's order id."));
        }

        if (envelope.Type != OrderExportRequested.EventType)
        {
            return (null, new UnreadableRecord(UnknownType, $"Unknown event type '{envelope.Type}'.", envelope.EventId, envelope.OrderId));
        }

        if (envelope.SchemaVersion != OrderExportRequested.SchemaVersion)
        {
            return (null, new UnreadableRecord(UnsupportedVersion,
                $"{envelope.Type} schema version {envelope.SchemaVersion} is not supported (supported: {OrderExportRequested.SchemaVersion}).",
                envelope.EventId, envelope.OrderId));
        }

        OrderExportRequestedPayload? payload;
        try
        {
            payload = envelope.Payload.ValueKind == JsonValueKind.Object
                ? envelope.Payload.Deserialize(MessagingJsonContext.Default.OrderExportRequestedPayload)
                : null;
        }
        catch (JsonException ex)
        {
            return (null, new UnreadableRecord(Malformed, $"The payload is not a valid {envelope.Type}: {ex.Message}"));
        }

        if (payload is null || payload.OrderId != envelope.OrderId || payload.Sequence < 1
            || string.IsNullOrWhiteSpace(payload.CustomerId) || string.IsNullOrWhiteSpace(payload.Currency))
        {
            return (null, new UnreadableRecord(Malformed, "The payload is missing fields or does not match the envelope."));
        }

        return (new ReceivedEvent(envelope, payload), null);
    }
}
