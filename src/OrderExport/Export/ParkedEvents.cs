using Microsoft.EntityFrameworkCore;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Per-order order through a dead letter: while an order has an unresolved dead letter, its
/// later events wait in <c>parked_messages</c>; once it is resolved they are exported in
/// arrival order. See docs/decisions/0006-consumer-dead-letters-and-parking.md.
/// </summary>
public sealed partial class ParkedEvents(
    IServiceScopeFactory scopes,
    PlatformExporter exporter,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<ParkedEvents> logger)
{
    /// <summary>The dead letters that hold their orders' later events.</summary>
    public static IQueryable<DeadLetter> UnresolvedDeadLetters(OrderExportDbContext db) =>
        db.Set<DeadLetter>().Where(d => d.Status == DeadLetterStatus.Unresolved);

    /// <summary>The order's dead letters that hold its later events.</summary>
    public static IQueryable<DeadLetter> UnresolvedDeadLetters(OrderExportDbContext db, Guid orderId) =>
        UnresolvedDeadLetters(db).Where(d => d.OrderId == orderId);

    /// <summary>The order's unresolved dead letters older than <paramref name="deadLetterId"/>: a replay of it would overtake them.</summary>
    public static IQueryable<DeadLetter> OlderUnresolvedDeadLetters(OrderExportDbContext db, Guid orderId, long deadLetterId) =>
        UnresolvedDeadLetters(db, orderId).Where(d => d.Id < deadLetterId);

    public static IQueryable<ParkedMessage> Parked(OrderExportDbContext db, Guid orderId) =>
        db.ParkedMessages.Where(p => p.OrderId == orderId);

    public static Task<bool> HasUnresolvedDeadLetterAsync(OrderExportDbContext db, Guid orderId, CancellationToken cancellationToken) =>
        UnresolvedDeadLetters(db, orderId).AnyAsync(cancellationToken);

    public static Task<bool> HasParkedAsync(OrderExportDbContext db, Guid orderId, CancellationToken cancellationToken) =>
        Parked(db, orderId).AnyAsync(cancellationToken);

    public Task ParkAsync(OrderExportDbContext db, IncomingRecord record, ReceivedEvent receivedEvent, CancellationToken cancellationToken) =>
        ParkAsync(db, record, receivedEvent.OrderId, receivedEvent.EventId, cancellationToken);

    /// <summary>Parks the record if its order is held (an unresolved dead letter or parked events); false if it is not.</summary>
    public async Task<bool> TryParkBehindHoldAsync(IncomingRecord record, Guid orderId, Guid eventId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        if (await db.ParkedMessages.AnyAsync(p => p.EventId == eventId, cancellationToken))
        {
            return true; // Parked on an earlier delivery.
        }

        if (await db.DeadLetters.AnyAsync(d => d.EventId == eventId, cancellationToken))
        {
            return false; // Dead-lettered on an earlier delivery: the caller finds that and writes nothing.
        }

        if (!await HasUnresolvedDeadLetterAsync(db, orderId, cancellationToken) && !await HasParkedAsync(db, orderId, cancellationToken))
        {
            return false;
        }

        await ParkAsync(db, record, orderId, eventId, cancellationToken);
        return true;
    }

    private async Task ParkAsync(OrderExportDbContext db, IncomingRecord record, Guid orderId, Guid eventId, CancellationToken cancellationToken)
    {
        db.ParkedMessages.Add(new ParkedMessage
        {
            OrderId = orderId,
            EventId = eventId,
            Topic = record.Topic,
            Partition = record.Partition,
            Offset = record.Offset,
            Payload = RecordText.From(record.Value),
            ParkedAtUtc = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        LogParked(orderId, eventId);
    }

    /// <summary>
    /// Exports the order's parked events in arrival order, until none is left or one fails again
    /// (it then becomes the order's new dead letter and holds the rest). Safe to run any time:
    /// it does nothing while the order has an unresolved dead letter.
    /// </summary>
    public async Task DrainAsync(Guid orderId, CancellationToken cancellationToken)
    {
        while (true)
        {
            ParkedMessage? parked;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
                if (await HasUnresolvedDeadLetterAsync(db, orderId, cancellationToken))
                {
                    return;
                }

                parked = await db.ParkedMessages.AsNoTracking()
                    .Where(p => p.OrderId == orderId).OrderBy(p => p.Id).FirstOrDefaultAsync(cancellationToken);
                if (parked is null)
                {
                    return;
                }

                var eventId = parked.EventId;
                if (await db.InboxMessages.AnyAsync(m => m.EventId == eventId, cancellationToken))
                {
                    await db.ParkedMessages.Where(p => p.Id == parked.Id).ExecuteDeleteAsync(cancellationToken);
                    continue;
                }
            }

            var record = IncomingRecord.FromParked(parked);
            var (receivedEvent, unreadable) = ReceivedEventReader.Read(record);
            LogReleased(orderId, parked.EventId);
            if (receivedEvent is null)
            {
                // An event of an unknown type or version, parked behind the hold: its turn has come,
                // and it becomes the order's dead letter. (Re-run safe: an earlier run's dead letter
                // of the same record is found and not written twice.)
                await exporter.DeadLetterUnreadableAsync(record, unreadable!, cancellationToken);
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<OrderExportDbContext>().ParkedMessages
                    .Where(p => p.Id == parked.Id).ExecuteDeleteAsync(cancellationToken);
                metrics.Handled(RecordRouter.Outcomes.DeadLettered);
                // Normally its dead letter now holds the rest (the loop's head sees it); if that dead
                // letter was resolved meanwhile (a re-run after a crash), the rest goes on.
                continue;
            }

            var exported = await exporter.ExportAsync(record, receivedEvent, cancellationToken, releasedParkedId: parked.Id);
            metrics.Handled(exported ? RecordRouter.Outcomes.Exported : RecordRouter.Outcomes.DeadLettered);
            if (!exported)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked order {OrderId} event {EventId}: the order has an unresolved dead letter")]
    private partial void LogParked(Guid orderId, Guid eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Releasing parked order {OrderId} event {EventId}")]
    private partial void LogReleased(Guid orderId, Guid eventId);
}
