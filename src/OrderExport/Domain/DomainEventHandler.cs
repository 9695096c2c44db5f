using OrderExport.Persistence;

namespace OrderExport.Domain;

/// <summary>
/// Turns a domain event into work in the same unit of work: handlers run inside SaveChanges,
/// before the transaction commits, and may only add or change entities on the context.
/// This is our small stand-in for MediatR notifications, which do not restore here
/// (docs/decisions/0004-in-house-domain-event-dispatch.md). Handlers are singletons.
/// </summary>
public interface IDomainEventHandler
{
    bool CanHandle(IDomainEvent domainEvent);

    void Handle(IDomainEvent domainEvent, OrderExportDbContext db);
}

/// <summary>Typed base so a handler states which event it wants and gets it already cast.</summary>
public abstract class DomainEventHandler<TEvent> : IDomainEventHandler
    where TEvent : IDomainEvent
{
    public bool CanHandle(IDomainEvent domainEvent) => domainEvent is TEvent;

    public void Handle(IDomainEvent domainEvent, OrderExportDbContext db) => Handle((TEvent)domainEvent, db);

    protected abstract void Handle(TEvent domainEvent, OrderExportDbContext db);
}
