namespace OrderExport.Domain;

/// <summary>Something that happened to an aggregate, raised inside the aggregate's own methods.</summary>
public interface IDomainEvent
{
    Guid EventId { get; }

    DateTime OccurredAtUtc { get; }
}
