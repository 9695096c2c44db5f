namespace OrderExport.Export;

/// <summary>
/// An event that arrived while its order had an unresolved dead letter. It waits here, in
/// arrival order, until the dead letter is replayed or discarded, so an order's events are
/// never exported out of order.
/// </summary>
public sealed class ParkedMessage
{
    public long Id { get; set; }

    public Guid OrderId { get; set; }

    public Guid EventId { get; set; }

    public required string Topic { get; set; }

    public int Partition { get; set; }

    public long Offset { get; set; }

    public required string Payload { get; set; }

    public DateTime ParkedAtUtc { get; set; }
}
