using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Exports one event to the platform and records what became of it: the inbox row and the order's
/// export status (group-committed with other events' by <see cref="ExportBookkeeping"/> on the first
/// delivery; in a transaction of its own, with the parked row's removal, on a release), or on
/// failure the dead letter with them (after the record is on the dead-letter topic). Shared by the
/// first delivery, the parked-event drain and replays.
/// </summary>
public sealed partial class PlatformExporter(
    IServiceScopeFactory scopes,
    IPlatformClient platform,
    DeadLetterPublisher deadLetterPublisher,
    ExportBookkeeping bookkeeping,
    IOptions<ConsumerOptions> options,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<PlatformExporter> logger)
{
    /// <summary>Tries at saving an outcome: the order row may change meanwhile (a re-export request, say).</summary>
    internal const int SaveAttempts = 5;

    /// <summary>Returns whether the event was exported (else it was dead-lettered).</summary>
    public async Task<bool> ExportAsync(IncomingRecord record, ReceivedEvent receivedEvent, CancellationToken cancellationToken,
        long? releasedParkedId = null)
    {
        var result = await CallPlatformAsync(receivedEvent, cancellationToken);
        if (result.IsExported)
        {
            var inbox = InboxMessage.For(receivedEvent, InboxOutcome.Exported, time.GetUtcNow().UtcDateTime);
            if (releasedParkedId is null)
            {
                // The common case, group-committed with the other partitions' and records' bookkeeping.
                await bookkeeping.RecordExportedAsync(inbox, receivedEvent.Payload.Sequence, cancellationToken);
            }
            else
            {
                await ConcurrencyRetry.SaveAsync(scopes, SaveAttempts, db =>
                {
                    RemoveParked(db, releasedParkedId);
                    db.InboxMessages.Add(inbox);
                    return RecordOutcomeAsync(db, receivedEvent, ExportStatus.Exported, cancellationToken);
                }, cancellationToken);
            }

            metrics.Exported(receivedEvent.Envelope.OccurredAt, time.GetUtcNow().UtcDateTime);
            LogExported(receivedEvent.OrderId, receivedEvent.EventId, result.Attempts);
            return true;
        }

        // Topic first, then the row: a failure in between repeats the record on the dead-letter
        // topic (its headers carry the original offset to tell copies apart), never loses it.
        var deadLetter = DeadLetter.For(record, receivedEvent.EventId, receivedEvent.OrderId, result, time.GetUtcNow().UtcDateTime);
        await deadLetterPublisher.PublishAsync(record, deadLetter, cancellationToken);
        await ConcurrencyRetry.SaveAsync(scopes, SaveAttempts, db =>
        {
            RemoveParked(db, releasedParkedId);
            db.DeadLetters.Add(deadLetter);
            db.InboxMessages.Add(InboxMessage.For(receivedEvent, InboxOutcome.DeadLettered, time.GetUtcNow().UtcDateTime));
            return RecordOutcomeAsync(db, receivedEvent, ExportStatus.DeadLettered, cancellationToken);
        }, cancellationToken);
        LogDeadLettered(receivedEvent.OrderId, receivedEvent.EventId, deadLetter.ErrorType, deadLetter.ErrorMessage, deadLetter.Attempts);
        return false;
    }

    /// <summary>
    /// Spends up to <see cref="ConsumerOptions.DeliveryRounds"/> retry budgets on one event. While
    /// the circuit breaker is open the platform is failing for everyone, not for this event: wait
    /// without counting rounds, for at most <see cref="ConsumerOptions.MaxCircuitWait"/> (so two
    /// poison events that keep the circuit open themselves cannot stall the consumer for ever).
    /// </summary>
    public async Task<PlatformResult> CallPlatformAsync(ReceivedEvent receivedEvent, CancellationToken cancellationToken)
    {
        var payload = receivedEvent.Payload;
        var request = new PlatformExportRequest(
            receivedEvent.EventId, receivedEvent.OrderId, payload.Sequence, payload.CustomerId, payload.Amount, payload.Currency);
        var attempts = 0;
        var spentRounds = 0;
        DateTimeOffset? firstFailure = null;
        long? circuitWaitStarted = null;
        while (true)
        {
            var result = await platform.ExportAsync(request, cancellationToken);
            attempts += result.Attempts;
            firstFailure ??= result.FirstFailureAt;
            var done = result.Outcome != PlatformOutcome.TransientExhausted;
            if (result.CircuitOpen)
            {
                circuitWaitStarted ??= time.GetTimestamp();
                done |= time.GetElapsedTime(circuitWaitStarted.Value) >= options.Value.MaxCircuitWait;
            }
            else
            {
                circuitWaitStarted = null;
                spentRounds++;
                done |= spentRounds >= options.Value.DeliveryRounds;
            }

            if (done)
            {
                return result with { Attempts = attempts, FirstFailureAt = firstFailure ?? result.FirstFailureAt };
            }

            LogRoundFailed(receivedEvent.OrderId, receivedEvent.EventId, spentRounds, result.Reason, result.CircuitOpen);
            metrics.Handled(RecordRouter.Outcomes.Retried);
            await Task.Delay(options.Value.RoundDelay, time, cancellationToken);
        }
    }

    /// <summary>
    /// Dead-letters a record that could not be read. The order it holds is the one a sound envelope
    /// (of an unknown type or version) names, else the record's key when it is an order id.
    /// </summary>
    public async Task DeadLetterUnreadableAsync(IncomingRecord record, UnreadableRecord unreadable, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var eventId = unreadable.EventId;
        if (await db.DeadLetters.AnyAsync(
                d => (d.Topic == record.Topic && d.Partition == record.Partition && d.Offset == record.Offset)
                     || (eventId != null && d.EventId == eventId), cancellationToken))
        {
            return; // Dead-lettered on an earlier delivery of the same record.
        }

        // The key names the order (key = order id) even when the value cannot be read: the order's
        // later events then wait behind this dead letter instead of overtaking it.
        var orderId = unreadable.OrderId ?? OrderIdKey.From(record);
        var deadLetter = DeadLetter.For(
            record, unreadable.EventId, orderId, Failed(unreadable.ErrorType, unreadable.Message), time.GetUtcNow().UtcDateTime);
        await deadLetterPublisher.PublishAsync(record, deadLetter, cancellationToken);
        db.DeadLetters.Add(deadLetter);
        await db.SaveChangesAsync(cancellationToken);
        LogUnreadable(record.Topic, record.Partition, record.Offset, orderId, unreadable.ErrorType, unreadable.Message);
    }

    /// <summary>A permanent failure that never reached the platform (the record could not be read).</summary>
    internal PlatformResult Failed(string errorType, string message)
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

    /// <summary>The export's outcome on its order, in the caller's unit of work.</summary>
    internal static async Task RecordOutcomeAsync(OrderExportDbContext db, ReceivedEvent receivedEvent, ExportStatus outcome, CancellationToken cancellationToken)
    {
        // No order here (a record written straight to the topic, say): nothing to record on.
        var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == receivedEvent.OrderId, cancellationToken);
        order?.RecordExportOutcome(receivedEvent.Payload.Sequence, outcome);
    }

    private static void RemoveParked(OrderExportDbContext db, long? parkedId)
    {
        if (parkedId is { } id)
        {
            db.ParkedMessages.Remove(new ParkedMessage { Id = id, Topic = "", Payload = "" });
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exported order {OrderId} event {EventId} after {Attempts} attempts")]
    private partial void LogExported(Guid orderId, Guid eventId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Order {OrderId} event {EventId}: platform round {Round} failed ({Reason}; circuit open: {CircuitOpen}); trying again")]
    private partial void LogRoundFailed(Guid orderId, Guid eventId, int round, string? reason, bool circuitOpen);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Dead-lettered order {OrderId} event {EventId}: {ErrorType} {ErrorMessage} after {Attempts} attempts")]
    private partial void LogDeadLettered(Guid orderId, Guid eventId, string errorType, string errorMessage, int attempts);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Dead-lettered unreadable record {Topic}[{Partition}]@{Offset} (order {OrderId}): {ErrorType} {ErrorMessage}")]
    private partial void LogUnreadable(string topic, int partition, long offset, Guid? orderId, string errorType, string errorMessage);
}
