namespace OrderExport.Domain;

/// <summary>
/// Base for aggregates: collects the domain events raised by state changes until the
/// persistence layer takes them (<see cref="DequeueDomainEvents"/>) and dispatches them inside
/// SaveChanges. The domain knows nothing of how: it only raises and hands over.
/// </summary>
public abstract class AggregateRoot
{
    private readonly List<IDomainEvent> _domainEvents = [];

    public IReadOnlyCollection<IDomainEvent> DomainEvents => _domainEvents;

    protected void Raise(IDomainEvent domainEvent) => _domainEvents.Add(domainEvent);

    internal IReadOnlyList<IDomainEvent> DequeueDomainEvents()
    {
        var events = _domainEvents.ToArray();
        _domainEvents.Clear();
        return events;
    }
}
