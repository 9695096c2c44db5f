using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// The export use case: one record in, handled out. "Handled" means exported, skipped as a
/// duplicate, parked behind its order's dead letter, or dead-lettered; only then may the
/// consumer store the record's offset. Infrastructure failures (database, broker) throw, and
/// the consumer retries the same record: nothing is skipped.
/// </summary>
public sealed partial class ExportHandler(
    IServiceScopeFactory scopes,
    IPlatformClient platform,
    DeadLetterPublisher deadLetterPublisher,
    IOptions<ConsumerOptions> options,
    IOptions<KafkaOptions> kafkaOptions,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<ExportHandler> logger)
{
    private const int ConcurrencyRetries = 5;

    /// <summary>Handles one record inside its consumer span (child of the span that published it).</summary>
    public async Task HandleAsync(IncomingRecord record, CancellationToken cancellationToken)
    {
        using var activity = OrderExportActivities.StartProcess(
            record.Topic, record.Partition, record.Offset, kafkaOptions.Value.ConsumerGroup,
            record.Header(MessageHeaders.TraceParent), record.Header(MessageHeaders.TraceState));
        activity?.SetTag("messaging.kafka.message.key", record.KeyText).SetTag("messaging.message.id", record.Header(MessageHeaders.EventId));
        try
        {
            var outcome = await HandleCoreAsync(record, cancellationToken);
            activity?.SetTag("orderexport.outcome", outcome);
            metrics.Handled(outcome);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    private async Task<string> HandleCoreAsync(IncomingRecord record, CancellationToken cancellationToken)
    {
        if (record.Header(ControlHeaders.ReplayOf) is { } replayOf
            && long.TryParse(replayOf, NumberStyles.None, CultureInfo.InvariantCulture, out var deadLetterId))
        {
            return await ReplayAsync(record, deadLetterId, cancellationToken);
        }

        if (record.Header(ControlHeaders.ReleaseOrder) is { } release && Guid.TryParse(release, out var releasedOrder))
        {
            await DrainParkedAsync(releasedOrder, cancellationToken);
            return Outcomes.Released;
        }

        var (exportEvent, unreadable) = ExportEventReader.Read(record);
        if (exportEvent is null)
        {
            await DeadLetterUnreadableAsync(record, unreadable!, cancellationToken);
            return Outcomes.DeadLettered;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var eventId = exportEvent.EventId;
        if (await db.InboxMessages.AnyAsync(m => m.EventId == eventId, cancellationToken)
            || await db.ParkedMessages.AnyAsync(m => m.EventId == eventId, cancellationToken))
        {
            LogDuplicate(exportEvent.OrderId, eventId);
            return Outcomes.Duplicate;
        }

        if (await IsHeldAsync(db, exportEvent.OrderId, cancellationToken))
        {
            db.ParkedMessages.Add(new ParkedMessage
            {
                OrderId = exportEvent.OrderId,
                EventId = eventId,
                Topic = record.Topic,
                Partition = record.Partition,
                Offset = record.Offset,
                Payload = record.ValueText,
                ParkedAtUtc = time.GetUtcNow().UtcDateTime,
            });
            await db.SaveChangesAsync(cancellationToken);
            LogParked(exportEvent.OrderId, eventId);
            return Outcomes.Parked;
        }

        return await ExportAsync(record, exportEvent, cancellationToken) ? Outcomes.Exported : Outcomes.DeadLettered;
    }

    /// <summary>Values of the <c>outcome</c> tag of orderexport.consumer.handled and of the process span.</summary>
    public static class Outcomes
    {
        public const string Exported = "exported";
        public const string Duplicate = "duplicate";
        public const string Parked = "parked";
        public const string DeadLettered = "dead_lettered";
        public const string Retried = "retried";
        public const string Replayed = "replayed";
        public const string ReplaySkipped = "replay_skipped";
        public const string ReplayFailed = "replay_failed";
        public const string Released = "released";
    }

    private static async Task<bool> IsHeldAsync(OrderExportDbContext db, Guid orderId, CancellationToken cancellationToken) =>
        await db.DeadLetters.AnyAsync(d => d.OrderId == orderId && d.Status == DeadLetterStatus.Unresolved, cancellationToken)
        || await db.ParkedMessages.AnyAsync(p => p.OrderId == orderId, cancellationToken);

    /// <summary>Calls the platform and records the outcome. Returns whether the event was exported.</summary>
    private async Task<bool> ExportAsync(IncomingRecord record, ExportEvent exportEvent, CancellationToken cancellationToken,
        long? releasedParkedId = null)
    {
        var result = await CallPlatformAsync(exportEvent, cancellationToken);
        if (result.IsExported)
        {
            await SaveAsync(db =>
            {
                RemoveParked(db, releasedParkedId);
                db.InboxMessages.Add(Inbox(exportEvent, InboxOutcome.Exported));
                return RecordOutcomeAsync(db, exportEvent, ExportStatus.Exported, cancellationToken);
            }, cancellationToken);
            metrics.Exported(exportEvent.Envelope.OccurredAt, time.GetUtcNow().UtcDateTime);
            LogExported(exportEvent.OrderId, exportEvent.EventId, result.Attempts);
            return true;
        }

        var deadLetter = NewDeadLetter(record, exportEvent.EventId, exportEvent.OrderId, result);
        await deadLetterPublisher.PublishAsync(record, deadLetter, cancellationToken);
        await SaveAsync(db =>
        {
            RemoveParked(db, releasedParkedId);
            db.DeadLetters.Add(deadLetter);
            db.InboxMessages.Add(Inbox(exportEvent, InboxOutcome.DeadLettered));
            return RecordOutcomeAsync(db, exportEvent, ExportStatus.DeadLettered, cancellationToken);
        }, cancellationToken);
        LogDeadLettered(exportEvent.OrderId, exportEvent.EventId, deadLetter.ErrorType, deadLetter.ErrorMessage, deadLetter.Attempts);
        return false;
    }

    /// <summary>
    /// Spends up to <see cref="ConsumerOptions.DeliveryRounds"/> retry budgets on one event. While
    /// the circuit breaker is open the platform is down for everyone: wait, do not dead-letter.
    /// </summary>
    private async Task<PlatformResult> CallPlatformAsync(ExportEvent exportEvent, CancellationToken cancellationToken)
    {
        var payload = exportEvent.Payload;
        var request = new PlatformExportRequest(
            exportEvent.EventId, exportEvent.OrderId, payload.Sequence, payload.CustomerId, payload.Amount, payload.Currency);
        var attempts = 0;
        var spentRounds = 0;
        DateTimeOffset? firstFailure = null;
        while (true)
        {
            var result = await platform.ExportAsync(request, cancellationToken);
            attempts += result.Attempts;
            firstFailure ??= result.FirstFailureAt;
            if (!result.CircuitOpen)
            {
                spentRounds++;
            }

            if (result.Outcome != PlatformOutcome.TransientExhausted || spentRounds >= options.Value.DeliveryRounds)
            {
                return result with { Attempts = attempts, FirstFailureAt = firstFailure ?? result.FirstFailureAt };
            }

            LogRoundFailed(exportEvent.OrderId, exportEvent.EventId, spentRounds, result.Reason, result.CircuitOpen);
            metrics.Handled(Outcomes.Retried);
            await Task.Delay(options.Value.RoundDelay, time, cancellationToken);
        }
    }

    private async Task<string> ReplayAsync(IncomingRecord record, long deadLetterId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var deadLetter = await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == deadLetterId, cancellationToken);
        if (deadLetter is null || deadLetter.Status != DeadLetterStatus.Unresolved)
        {
            // Replayed twice, or discarded meanwhile: the first replay did the work.
            LogReplaySkipped(deadLetterId, deadLetter?.Status.ToString() ?? "missing");
            return Outcomes.ReplaySkipped;
        }

        var (exportEvent, unreadable) = ExportEventReader.Read(record);
        PlatformResult result;
        if (exportEvent is null)
        {
            result = Failed(unreadable!.ErrorType, unreadable.Message);
        }
        else
        {
            var eventId = exportEvent.EventId;
            var alreadyExported = await db.InboxMessages.AnyAsync(
                m => m.EventId == eventId && m.Outcome == InboxOutcome.Exported, cancellationToken);
            result = alreadyExported
                ? new PlatformResult { Outcome = PlatformOutcome.Exported, Attempts = 0 }
                : await CallPlatformAsync(exportEvent, cancellationToken);
        }

        if (result.IsExported)
        {
            await SaveAsync(async writes =>
            {
                var tracked = await writes.DeadLetters.SingleAsync(d => d.Id == deadLetterId, cancellationToken);
                tracked.Status = DeadLetterStatus.Replayed;
                tracked.ResolvedAtUtc = time.GetUtcNow().UtcDateTime;
                tracked.Version++;
                var inbox = await writes.InboxMessages.SingleOrDefaultAsync(m => m.EventId == exportEvent!.EventId, cancellationToken);
                if (inbox is null)
                {
                    writes.InboxMessages.Add(Inbox(exportEvent!, InboxOutcome.Exported));
                }
                else
                {
                    inbox.Outcome = InboxOutcome.Exported;
                    inbox.HandledAtUtc = time.GetUtcNow().UtcDateTime;
                }

                await RecordOutcomeAsync(writes, exportEvent!, ExportStatus.Exported, cancellationToken);
            }, cancellationToken);
            metrics.Exported(exportEvent!.Envelope.OccurredAt, time.GetUtcNow().UtcDateTime);
            LogReplayed(exportEvent.OrderId, exportEvent.EventId, deadLetterId);
            await DrainParkedAsync(exportEvent.OrderId, cancellationToken);
            return Outcomes.Replayed;
        }

        // Still failing: it stays unresolved (its order stays held), with the latest reason, and
        // goes to the dead-letter topic again so the failure is visible there too.
        var now = time.GetUtcNow().UtcDateTime;
        deadLetter.Attempts += result.Attempts;
        deadLetter.LastFailureAtUtc = result.LastFailureAt?.UtcDateTime ?? now;
        deadLetter.ErrorType = ErrorTypeOf(result);
        deadLetter.ErrorMessage = result.Reason ?? "unknown";
        await deadLetterPublisher.PublishAsync(record, deadLetter, cancellationToken);
        await SaveAsync(async writes =>
        {
            var tracked = await writes.DeadLetters.SingleAsync(d => d.Id == deadLetterId, cancellationToken);
            tracked.Attempts = deadLetter.Attempts;
            tracked.LastFailureAtUtc = deadLetter.LastFailureAtUtc;
            tracked.ErrorType = deadLetter.ErrorType;
            tracked.ErrorMessage = deadLetter.ErrorMessage;
            tracked.Version++;
        }, cancellationToken);
        LogReplayFailed(deadLetter.OrderId, deadLetter.EventId, deadLetterId, deadLetter.ErrorMessage);
        return Outcomes.ReplayFailed;
    }

    /// <summary>Exports an order's parked events in arrival order, until none is left or one fails again.</summary>
    private async Task DrainParkedAsync(Guid orderId, CancellationToken cancellationToken)
    {
        while (true)
        {
            ParkedMessage? parked;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
                if (await db.DeadLetters.AnyAsync(d => d.OrderId == orderId && d.Status == DeadLetterStatus.Unresolved, cancellationToken))
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
            var exported = await ExportAsync(record, exportEvent!, cancellationToken, releasedParkedId: parked.Id);
            metrics.Handled(exported ? Outcomes.Exported : Outcomes.DeadLettered);
            if (!exported)
            {
                return;
            }
        }
    }

    private async Task DeadLetterUnreadableAsync(IncomingRecord record, UnreadableRecord unreadable, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        if (await db.DeadLetters.AnyAsync(
                d => d.Topic == record.Topic && d.Partition == record.Partition && d.Offset == record.Offset, cancellationToken))
        {
            return; // Dead-lettered on an earlier delivery of the same record.
        }

        // Nothing in an unreadable record is trusted: no event id, no order to hold.
        var deadLetter = NewDeadLetter(record, null, null, Failed(unreadable.ErrorType, unreadable.Message));
        await deadLetterPublisher.PublishAsync(record, deadLetter, cancellationToken);
        db.DeadLetters.Add(deadLetter);
        await db.SaveChangesAsync(cancellationToken);
        LogUnreadable(record.Topic, record.Partition, record.Offset, unreadable.ErrorType, unreadable.Message);
    }

    private DeadLetter NewDeadLetter(IncomingRecord record, Guid? eventId, Guid? orderId, PlatformResult result)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DeadLetter
        {
            EventId = eventId,
            OrderId = orderId,
            MessageKey = record.Key is null ? null : record.KeyText,
            Topic = record.Topic,
            Partition = record.Partition,
            Offset = record.Offset,
            ErrorType = ErrorTypeOf(result),
            ErrorMessage = result.Reason ?? "unknown",
            Attempts = result.Attempts,
            FirstFailureAtUtc = result.FirstFailureAt?.UtcDateTime ?? now,
            LastFailureAtUtc = result.LastFailureAt?.UtcDateTime ?? now,
            Payload = record.ValueText,
            Status = DeadLetterStatus.Unresolved,
            CreatedAtUtc = now,
        };
    }

    private static string ErrorTypeOf(PlatformResult result) => result.Outcome switch
    {
        PlatformOutcome.PermanentFailure when result.StatusCode is null => result.Reason?.Split(':')[0] ?? "Unreadable",
        PlatformOutcome.PermanentFailure => "PlatformRejected",
        _ => "PlatformUnavailable",
    };

    private PlatformResult Failed(string errorType, string message)
    {
        var now = time.GetUtcNow();
        return new PlatformResult
        {
            Outcome = PlatformOutcome.PermanentFailure,
            Attempts = 0,
            Reason = $"{errorType}: {message}",
            FirstFailureAt = now,
            LastFailureAt = now,
        };
    }

    private InboxMessage Inbox(ExportEvent exportEvent, InboxOutcome outcome) => new()
    {
        EventId = exportEvent.EventId,
        OrderId = exportEvent.OrderId,
        Outcome = outcome,
        HandledAtUtc = time.GetUtcNow().UtcDateTime,
    };

    private static void RemoveParked(OrderExportDbContext db, long? parkedId)
    {
        if (parkedId is { } id)
        {
            db.ParkedMessages.Remove(new ParkedMessage { Id = id, Topic = "", Payload = "" });
        }
    }

    private async Task RecordOutcomeAsync(OrderExportDbContext db, ExportEvent exportEvent, ExportStatus outcome, CancellationToken cancellationToken)
    {
        var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == exportEvent.OrderId, cancellationToken);
        if (order is null)
        {
            LogUnknownOrder(exportEvent.OrderId, exportEvent.EventId);
            return;
        }

        order.RecordExportOutcome(exportEvent.Payload.Sequence, outcome);
    }

    /// <summary>Runs <paramref name="writes"/> on a fresh context and saves, again on a concurrent order update.</summary>
    private async Task SaveAsync(Func<OrderExportDbContext, Task> writes, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            await writes(db);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < ConcurrencyRetries)
            {
                // The order changed meanwhile (a re-export request, say): apply our outcome to the new state.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exported order {OrderId} event {EventId} after {Attempts} attempts")]
    private partial void LogExported(Guid orderId, Guid eventId, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped duplicate of order {OrderId} event {EventId}: already handled")]
    private partial void LogDuplicate(Guid orderId, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked order {OrderId} event {EventId}: the order has an unresolved dead letter")]
    private partial void LogParked(Guid orderId, Guid eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Releasing parked order {OrderId} event {EventId}")]
    private partial void LogReleased(Guid orderId, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Order {OrderId} event {EventId}: platform round {Round} failed ({Reason}; circuit open: {CircuitOpen}); trying again")]
    private partial void LogRoundFailed(Guid orderId, Guid eventId, int round, string? reason, bool circuitOpen);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Dead-lettered order {OrderId} event {EventId}: {ErrorType} {ErrorMessage} after {Attempts} attempts")]
    private partial void LogDeadLettered(Guid orderId, Guid eventId, string errorType, string errorMessage, int attempts);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Dead-lettered unreadable record {Topic}[{Partition}]@{Offset}: {ErrorType} {ErrorMessage}")]
    private partial void LogUnreadable(string topic, int partition, long offset, string errorType, string errorMessage);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed dead letter {DeadLetterId}: order {OrderId} event {EventId} exported")]
    private partial void LogReplayed(Guid orderId, Guid eventId, long deadLetterId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay of dead letter {DeadLetterId} (order {OrderId} event {EventId}) failed again: {Reason}")]
    private partial void LogReplayFailed(Guid? orderId, Guid? eventId, long deadLetterId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped replay of dead letter {DeadLetterId}: it is {Status}")]
    private partial void LogReplaySkipped(long deadLetterId, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} of event {EventId} does not exist here; its export status is not recorded")]
    private partial void LogUnknownOrder(Guid orderId, Guid eventId);
}
