using OrderExport.Platform;

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
/// Its state changes only through <see cref="Discard"/>, <see cref="MarkReplayed"/> and
/// <see cref="RecordFailedReplay"/>, each of which checks the state it starts from and bumps
/// <see cref="Version"/> (the concurrency token) when it changes anything.
/// </summary>
public sealed class DeadLetter
{
    /// <summary>
    /// A new, unresolved dead letter for a record whose export failed (or that could not be read):
    /// where it was on the topic, its key and value as <see cref="RecordText"/> stores them, and the
    /// failure. Failure times the result lacks (a record that never reached the platform) are now.
    /// </summary>
    public static DeadLetter For(IncomingRecord record, Guid? eventId, Guid? orderId, PlatformResult result, DateTime nowUtc) => new()
    {
        EventId = eventId,
        OrderId = orderId,
        MessageKey = record.Key is null ? null : RecordText.From(record.Key),
        Topic = record.Topic,
        Partition = record.Partition,
        Offset = record.Offset,
        ErrorType = ErrorTypeOf(result),
        ErrorMessage = result.Reason ?? "unknown",
        Attempts = result.Attempts,
        FirstFailureAtUtc = result.FirstFailureAt?.UtcDateTime ?? nowUtc,
        LastFailureAtUtc = result.LastFailureAt?.UtcDateTime ?? nowUtc,
        Payload = RecordText.From(record.Value),
        CreatedAtUtc = nowUtc,
    };

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

    public DeadLetterStatus Status { get; private set; }

    public DateTime CreatedAtUtc { get; set; }

    public DateTime? ResolvedAtUtc { get; private set; }

    public int Version { get; private set; }

    /// <summary>
    /// An operator gives up on it: Unresolved becomes Discarded (true). Discarding again changes
    /// nothing (false) and is allowed, so the release of the order's parked events can be sent
    /// again; a replayed dead letter cannot be discarded.
    /// </summary>
    /// <exception cref="DeadLetterResolvedException">It was replayed.</exception>
    public bool Discard(DateTime nowUtc)
    {
        switch (Status)
        {
            case DeadLetterStatus.Unresolved:
                Resolve(DeadLetterStatus.Discarded, nowUtc);
                return true;
            case DeadLetterStatus.Discarded:
                return false;
            default:
                throw new DeadLetterResolvedException(this);
        }
    }

    /// <summary>
    /// Its event was exported on replay. From Unresolved, and from Discarded too: an operator may
    /// discard it while the replay is under way, and the export has happened all the same.
    /// </summary>
    /// <returns>False, and nothing changes, when it was replayed already (two replays that raced).</returns>
    public bool MarkReplayed(DateTime nowUtc)
    {
        if (Status == DeadLetterStatus.Replayed)
        {
            return false;
        }

        Resolve(DeadLetterStatus.Replayed, nowUtc);
        return true;
    }

    /// <summary>
    /// A replay failed again: it keeps its status (an unresolved one keeps holding its order) and
    /// takes the latest failure, its attempts added to the earlier ones.
    /// </summary>
    /// <returns>False, and nothing changes, when another replay exported it meanwhile.</returns>
    public bool RecordFailedReplay(PlatformResult result, DateTime nowUtc)
    {
        if (Status == DeadLetterStatus.Replayed)
        {
            return false;
        }

        Attempts += result.Attempts;
        LastFailureAtUtc = result.LastFailureAt?.UtcDateTime ?? nowUtc;
        ErrorType = ErrorTypeOf(result);
        ErrorMessage = result.Reason ?? "unknown";
        Version++;
        return true;
    }

    /// <summary>What the dead-letter topic and the operators see as the kind of failure.</summary>
    internal static string ErrorTypeOf(PlatformResult result) => result.Outcome switch
    {
        PlatformOutcome.PermanentFailure when result.StatusCode is null => result.Reason?.Split(':')[0] ?? "Unreadable",
        PlatformOutcome.PermanentFailure => "PlatformRejected",
        _ => "PlatformUnavailable",
    };

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

    private void Resolve(DeadLetterStatus status, DateTime nowUtc)
    {
        Status = status;
        ResolvedAtUtc = nowUtc;
        Version++;
    }
}

/// <summary>A change that only an unresolved (or discarded) dead letter allows; the API answers it with 409.</summary>
public sealed class DeadLetterResolvedException(DeadLetter deadLetter)
    : InvalidOperationException($"Dead letter {deadLetter.Id} is {deadLetter.Status}.")
{
    public DeadLetter DeadLetter { get; } = deadLetter;
}
