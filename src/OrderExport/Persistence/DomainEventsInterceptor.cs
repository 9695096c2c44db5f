using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using OrderExport.Domain;

namespace OrderExport.Persistence;

/// <summary>
/// Publishes the domain events of tracked aggregates through Mediator at the start of
/// SaveChanges, before EF Core detects changes and opens its transaction, so whatever the
/// notification handlers add to the context (outbox rows) is saved in the same transaction as
/// the aggregate change: no order is confirmed without its event, and no event exists for a
/// change that did not commit.
/// </summary>
/// <remarks>
/// Scoped, like the DbContext and Mediator's handlers (docs/decisions/0004-domain-events-through-mediator.md):
/// the DbContext's options take it from the scope that builds them, and it takes
/// <see cref="IPublisher"/> from that scope only when there is something to publish, so the
/// many scopes that never raise an event (relay, consumer, health checks) build no mediator.
/// Mediator resolves a notification's handlers from the scope when it dispatches, so the
/// handler gets the scope's DbContext; the interceptor therefore refuses to publish for any
/// other context: the handlers' writes would land in a different unit of work.
/// </remarks>
internal sealed class DomainEventsInterceptor(IServiceProvider scope) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        // Mediator's handlers are asynchronous (ValueTask); blocking on them here would be
        // sync-over-async. Nothing in the service saves synchronously: say so if something starts to.
        if (eventData.Context is OrderExportDbContext db && HasDomainEvents(db))
        {
            throw new InvalidOperationException(
                "Aggregates with domain events must be saved with SaveChangesAsync: their handlers run through Mediator, asynchronously.");
        }

        return result;
    }

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is OrderExportDbContext db)
        {
            await PublishAsync(db, cancellationToken);
        }

        return result;
    }

    private static bool HasDomainEvents(OrderExportDbContext db) =>
        db.ChangeTracker.Entries<AggregateRoot>().Any(entry => entry.Entity.DomainEvents.Count > 0);

    private async Task PublishAsync(OrderExportDbContext db, CancellationToken cancellationToken)
    {
        IPublisher? publisher = null;
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

            publisher ??= PublisherFor(db);
            // One at a time, in the order raised: handlers share the (not thread-safe) context.
            foreach (var domainEvent in events)
            {
                if (domainEvent is not INotification notification)
                {
                    throw new InvalidOperationException(
                        $"Domain event {domainEvent.GetType().Name} is not a Mediator notification (INotification); nothing would handle it.");
                }

                await publisher.Publish(notification, cancellationToken);
            }
        }
    }

    private IPublisher PublisherFor(OrderExportDbContext db)
    {
        if (!ReferenceEquals(scope.GetRequiredService<OrderExportDbContext>(), db))
        {
            throw new InvalidOperationException(
                "Domain events are published only when saving the DbContext of the DI scope: their handlers write to that "
                + "scope's context, which is not the one being saved here, so their rows would miss this transaction.");
        }

        return scope.GetRequiredService<IPublisher>();
    }
}
