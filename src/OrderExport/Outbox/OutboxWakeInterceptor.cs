using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace OrderExport.Outbox;

/// <summary>
/// After a save that wrote outbox rows, wakes the relay (<see cref="OutboxSignal"/>) so it
/// publishes at once instead of at its next poll. Persistence adds it to every DbContext with the
/// other save interceptors that features register.
/// </summary>
internal sealed class OutboxWakeInterceptor(OutboxSignal signal) : SaveChangesInterceptor
{
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
