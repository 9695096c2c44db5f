using Microsoft.EntityFrameworkCore;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>
/// What the database knows of events and their orders, in one query: the consumer's duplicate,
/// dead-letter and parking checks, for one record (<see cref="RecordRouter"/>) or for a fetched
/// batch (<see cref="PriorChecks"/>), so both decide by the same rules.
/// </summary>
internal static class EventStanding
{
    /// <summary>The event was handled before: its inbox row or its parked row exists (<c>Id</c>: the event).</summary>
    public const int Handled = 1;

    /// <summary>The order has an unresolved dead letter, which holds its later events (<c>Id</c>: the order).</summary>
    public const int DeadLettered = 2;

    /// <summary>The order has parked events (<c>Id</c>: the order).</summary>
    public const int Parked = 3;

    public static async Task<List<(int Kind, Guid Id)>> FindAsync(
        OrderExportDbContext db, IReadOnlyCollection<Guid> eventIds, IReadOnlyCollection<Guid> orderIds, CancellationToken cancellationToken)
    {
        var rows = await db.Set<InboxMessage>().Where(m => eventIds.Contains(m.EventId)).Select(m => new { Kind = Handled, Id = m.EventId })
            .Concat(db.Set<ParkedMessage>().Where(p => eventIds.Contains(p.EventId)).Select(p => new { Kind = Handled, Id = p.EventId }))
            .Concat(ParkedEvents.UnresolvedDeadLetters(db).Where(d => d.OrderId != null && orderIds.Contains(d.OrderId.Value))
                .Select(d => new { Kind = DeadLettered, Id = d.OrderId!.Value }))
            .Concat(db.Set<ParkedMessage>().Where(p => orderIds.Contains(p.OrderId)).Select(p => new { Kind = Parked, Id = p.OrderId }))
            // An order with many parked events is one row, not one per event.
            .Distinct()
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r => (r.Kind, r.Id));
    }
}
