namespace OrderExport.Export;

public enum DeadLetterStatus
{
    /// <summary>Waiting for an operator; later events of its order are parked.</summary>
    Unresolved,

    /// <summary>Replayed and exported.</summary>
    Replayed,

    /// <summary>Given up on by an operator; the order's parked events were released.</summary>
    Discarded,
}

/// <summary>
/// A message that could not be exported (or read). The same record, with the reason in its
/// headers, is on the dead-letter topic; this row is the index operators list and act on.
/// </summary>
public sealed class DeadLetter
{
    public long Id { get; set; }

    /// <summary>Null for a message too broken to carry a readable event id.</summary>
    public Guid? EventId { get; set; }

    /// <summary>Null for unreadable messages: those never hold an order's later events.</summary>
    public Guid? OrderId { get; set; }

    public string? MessageKey { get; set; }

    public required string Topic { get; set; }

    public int Partition { get; set; }

    public long Offset { get; set; }

    public required string ErrorType { get; set; }

    public required string ErrorMessage { get; set; }

    public int Attempts { get; set; }

    public DateTime FirstFailureAtUtc { get; set; }

    public DateTime LastFailureAtUtc { get; set; }

    /// <summary>The original record's value as <see cref="RecordText"/> stores it (text, or <c>base64:</c> for binary).</summary>
    public required string Payload { get; set; }

    public DeadLetterStatus Status { get; set; }

    public DateTime CreatedAtUtc { get; set; }

    public DateTime? ResolvedAtUtc { get; set; }

    public int Version { get; set; }

    /// <summary>The original record's key bytes, or the order id's where it had none; null if neither.</summary>
    public byte[]? KeyBytes() =>
        MessageKey is not null ? RecordText.ToBytes(MessageKey)
        : OrderId is { } orderId ? System.Text.Encoding.UTF8.GetBytes(orderId.ToString())
        : null;

    /// <summary>
    /// The original record rebuilt from what was stored: what a replay exports and, if it fails
    /// again, what goes to the dead-letter topic again, byte for byte.
    /// </summary>
    public IncomingRecord StoredRecord() => new(Topic, Partition, Offset, KeyBytes(), RecordText.ToBytes(Payload), []);
}
