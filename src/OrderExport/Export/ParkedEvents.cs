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
    EventExporter exporter,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<ParkedEvents> logger)
{
    /// <summary>The order's dead letters that hold its later events.</summary>
    public static IQueryable<DeadLetter> UnresolvedDeadLetters(OrderExportDbContext db, Guid orderId) =>
        db.DeadLetters.Where(d => d.OrderId == orderId && d.Status == DeadLetterStatus.Unresolved);

    public static IQueryable<ParkedMessage> Parked(OrderExportDbContext db, Guid orderId) =>
        db.ParkedMessages.Where(p => p.OrderId == orderId);

    public static Task<bool> HasUnresolvedDeadLetterAsync(OrderExportDbContext db, Guid orderId, CancellationToken cancellationToken) =>
        UnresolvedDeadLetters(db, orderId).AnyAsync(cancellationToken);

    public static Task<bool> HasParkedAsync(OrderExportDbContext db, Guid orderId, CancellationToken cancellationToken) =>
        Parked(db, orderId).AnyAsync(cancellationToken);

    public async Task ParkAsync(OrderExportDbContext db, IncomingRecord record, ExportEvent exportEvent, CancellationToken cancellationToken)
    {
        db.ParkedMessages.Add(new ParkedMessage
        {
            OrderId = exportEvent.OrderId,
            EventId = exportEvent.EventId,
            Topic = record.Topic,
            Partition = record.Partition,
            Offset = record.Offset,
            Payload = RecordText.From(record.Value),
            ParkedAtUtc = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        LogParked(exportEvent.OrderId, exportEvent.EventId);
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
            var (exportEvent, _) = ExportEventReader.Read(record);
            LogReleased(orderId, parked.EventId);
            // Parked records were readable when parked; the reader cannot disagree now.
            var exported = await exporter.ExportAsync(record, exportEvent!, cancellationToken, releasedParkedId: parked.Id);
            metrics.Handled(exported ? ExportHandler.Outcomes.Exported : ExportHandler.Outcomes.DeadLettered);
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
