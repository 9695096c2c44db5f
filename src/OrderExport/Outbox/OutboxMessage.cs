namespace OrderExport.Outbox;

/// <summary>
/// One event waiting to be (or already) published to Kafka. Rows are only ever added inside
/// the SaveChanges that changes the aggregate (see Persistence/DomainEventsInterceptor.cs);
/// the relay then publishes them in <see cref="Id"/> order per order.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Database-assigned, increasing: the publish order within one order.</summary>
    public long Id { get; set; }

    public Guid EventId { get; set; }

    /// <summary>The Kafka key: all events of one order land on one partition, in order.</summary>
    public Guid OrderId { get; set; }

    public required string EventType { get; set; }

    public int SchemaVersion { get; set; }

    public DateTime OccurredAtUtc { get; set; }

    /// <summary>The whole <see cref="MessageEnvelope"/> as JSON: exactly what goes on the wire.</summary>
    public required string Payload { get; set; }

    public string? TraceParent { get; set; }

    public string? TraceState { get; set; }

    public DateTime CreatedAtUtc { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    public DateTime? NextAttemptAtUtc { get; set; }

    public DateTime? PublishedAtUtc { get; set; }
}
