namespace OrderExport.Export;

public enum InboxOutcome
{
    Exported,
    DeadLettered,
}

/// <summary>An event the consumer has handled. Its id is the platform's Idempotency-Key.</summary>
public sealed class InboxMessage
{
    public Guid EventId { get; set; }

    public Guid OrderId { get; set; }

    public InboxOutcome Outcome { get; set; }

    public DateTime HandledAtUtc { get; set; }

    public static InboxMessage For(ReceivedEvent receivedEvent, InboxOutcome outcome, DateTime handledAtUtc) => new()
    {
        EventId = receivedEvent.EventId,
        OrderId = receivedEvent.OrderId,
        Outcome = outcome,
        HandledAtUtc = handledAtUtc,
    };
}
