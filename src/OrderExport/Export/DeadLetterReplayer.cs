using Microsoft.EntityFrameworkCore;
using OrderExport.Messaging;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Handles a replay control record (<see cref="ControlHeaders.ReplayOf"/>): exports the
/// dead-lettered event again, resolves the dead letter, and releases the order's parked events.
/// A replay of an already resolved dead letter exports nothing but still releases parked
/// events, so a replay interrupted between the two (a deploy, say) finishes on redelivery.
/// </summary>
public sealed partial class DeadLetterReplayer(
    IServiceScopeFactory scopes,
    PlatformExporter exporter,
    ParkedEvents parked,
    DeadLetterPublisher deadLetterPublisher,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<DeadLetterReplayer> logger)
{
    public async Task<string> ReplayAsync(IncomingRecord control, long deadLetterId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var deadLetter = await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == deadLetterId, cancellationToken);
        if (deadLetter is null || !Matches(control, deadLetter))
        {
            // Anyone who can write to the topic can write a control record: one that does not
            // match the stored dead letter changes nothing.
            LogReplaySkipped(deadLetterId, deadLetter is null ? "missing" : "not what the replay record names (key or event id differ)");
            return RecordRouter.Outcomes.ReplaySkipped;
        }

        if (deadLetter.Status != DeadLetterStatus.Unresolved)
        {
            LogReplaySkipped(deadLetterId, deadLetter.Status.ToString());
            if (deadLetter.OrderId is { } orderId)
            {
                await parked.DrainAsync(orderId, cancellationToken);
            }

            return RecordRouter.Outcomes.ReplaySkipped;
        }

        if (deadLetter.OrderId is { } heldOrder
            && await ParkedEvents.OlderUnresolvedDeadLetters(db, heldOrder, deadLetter.Id).AnyAsync(cancellationToken))
        {
            // It would overtake an older dead letter of its order (the API refuses this with a 409;
            // a replay of the older one that failed again gets here): it stays unresolved.
            LogReplaySkipped(deadLetterId, "behind an older unresolved dead letter of its order");
            return RecordRouter.Outcomes.ReplaySkipped;
        }

        // The stored record, byte for byte, is what goes out again: never the control record's value.
        var record = deadLetter.StoredRecord();
        var (receivedEvent, unreadable) = ReceivedEventReader.Read(record);
        var eventId = receivedEvent?.EventId;
        var alreadyExported = eventId is not null && await db.InboxMessages.AnyAsync(
            m => m.EventId == eventId && m.Outcome == InboxOutcome.Exported, cancellationToken);

        var result = receivedEvent is null ? exporter.Failed(unreadable!.ErrorType, unreadable.Message)
            : alreadyExported ? new PlatformResult { Outcome = PlatformOutcome.Exported, Attempts = 0 }
            : await exporter.CallPlatformAsync(receivedEvent, cancellationToken);

        if (result.IsExported)
        {
            await ConcurrencyRetry.SaveAsync(scopes, PlatformExporter.SaveAttempts,
                db => ResolveAsync(db, deadLetterId, receivedEvent!, cancellationToken), cancellationToken);
            metrics.Exported(receivedEvent!.Envelope.OccurredAt, time.GetUtcNow().UtcDateTime);
            LogReplayed(receivedEvent.OrderId, receivedEvent.EventId, deadLetterId);
            await parked.DrainAsync(deadLetter.OrderId ?? receivedEvent.OrderId, cancellationToken);
            return RecordRouter.Outcomes.Replayed;
        }

        // Still failing: it stays unresolved (its order stays held), with the latest reason, and
        // goes to the dead-letter topic again so the failure is visible there too.
        var now = time.GetUtcNow().UtcDateTime;
        deadLetter.RecordFailedReplay(result, now);
        await deadLetterPublisher.PublishAsync(record, deadLetter, cancellationToken);
        await ConcurrencyRetry.SaveAsync(scopes, PlatformExporter.SaveAttempts, async db =>
            (await db.DeadLetters.SingleAsync(d => d.Id == deadLetterId, cancellationToken)).RecordFailedReplay(result, now),
            cancellationToken);
        LogReplayFailed(deadLetter.OrderId, deadLetter.EventId, deadLetterId, deadLetter.ErrorMessage);
        return RecordRouter.Outcomes.ReplayFailed;
    }

    /// <summary>
    /// The control record names this dead letter as the operations API writes it: same key bytes,
    /// its event id where it has one, and (same topic) its own partition.
    /// </summary>
    private static bool Matches(IncomingRecord control, DeadLetter deadLetter) =>
        (control.Key ?? []).AsSpan().SequenceEqual(deadLetter.KeyBytes() ?? [])
        && (control.Topic != deadLetter.Topic || control.Partition == deadLetter.Partition)
        && (deadLetter.EventId is not { } expected
            || (Guid.TryParse(control.Header(MessageHeaders.EventId), out var named) && named == expected));

    private async Task ResolveAsync(OrderExportDbContext db, long deadLetterId, ReceivedEvent receivedEvent, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var deadLetter = await db.DeadLetters.SingleAsync(d => d.Id == deadLetterId, cancellationToken);
        deadLetter.MarkReplayed(now);
        var inbox = await db.InboxMessages.SingleOrDefaultAsync(m => m.EventId == receivedEvent.EventId, cancellationToken);
        if (inbox is null)
        {
            db.InboxMessages.Add(InboxMessage.For(receivedEvent, InboxOutcome.Exported, now));
        }
        else
        {
            inbox.Outcome = InboxOutcome.Exported;
            inbox.HandledAtUtc = now;
        }

        await PlatformExporter.RecordOutcomeAsync(db, receivedEvent, ExportStatus.Exported, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed dead letter {DeadLetterId}: order {OrderId} event {EventId} exported")]
    private partial void LogReplayed(Guid orderId, Guid eventId, long deadLetterId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay of dead letter {DeadLetterId} (order {OrderId} event {EventId}) failed again: {Reason}")]
    private partial void LogReplayFailed(Guid? orderId, Guid? eventId, long deadLetterId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {DeadLetterId} is {Status}: nothing to export, releasing its order's parked events if any")]
    private partial void LogReplaySkipped(long deadLetterId, string status);
}
