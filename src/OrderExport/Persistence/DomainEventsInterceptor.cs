using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using OrderExport.Domain;
using OrderExport.Outbox;

namespace OrderExport.Persistence;

/// <summary>
/// Dispatches the domain events of tracked aggregates to their handlers at the start of
/// SaveChanges, so whatever the handlers add (outbox rows) is saved in the same transaction
/// as the aggregate change: no order is confirmed without its event, and no event exists for a
/// change that did not commit. After a save that wrote outbox rows, it wakes the relay.
/// </summary>
internal sealed class DomainEventsInterceptor(IEnumerable<IDomainEventHandler> handlers, OutboxSignal signal)
    : SaveChangesInterceptor
{
    private readonly IDomainEventHandler[] _handlers = handlers.ToArray();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Dispatch(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Dispatch(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        WakeRelay(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(
        SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        WakeRelay(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private void Dispatch(DbContext? context)
    {
        if (context is not OrderExportDbContext db)
        {
            return;
        }

        // Handlers may change aggregates that raise further events: drain until quiet.
        while (true)
        {
            var events = db.ChangeTracker.Entries<AggregateRoot>()
                .SelectMany(entry => entry.Entity.DequeueDomainEvents())
                .ToList();
            if (events.Count == 0)
            {
                return;
            }

            foreach (var domainEvent in events)
            {
                foreach (var handler in _handlers)
                {
                    if (handler.CanHandle(domainEvent))
                    {
                        handler.Handle(domainEvent, db);
                    }
                }
            }
        }
    }

    private void WakeRelay(DbContext? context)
    {
        // Entries saved in this call are Unchanged by now; any tracked outbox row means the
        // relay may have work. An early wake inside an explicit transaction is harmless: the
        // relay finds nothing yet and falls back to LISTEN/NOTIFY or its poll interval.
        if (context is not null && context.ChangeTracker.Entries<OutboxMessage>().Any())
        {
            signal.Notify();
        }
    }
}
