using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// The export use case: one record in, handled out. "Handled" means exported, skipped as a
/// duplicate, parked behind its order's dead letter, or dead-lettered; only then may the
/// consumer store the record's offset. Infrastructure failures (database, broker) throw, and
/// the consumer retries the same record: nothing is skipped.
/// </summary>
public sealed partial class RecordRouter(
    IServiceScopeFactory scopes,
    PlatformExporter exporter,
    ParkedEvents parked,
    DeadLetterReplayer replayer,
    IOptions<KafkaOptions> kafkaOptions,
    OrderExportMetrics metrics,
    ILogger<RecordRouter> logger)
{
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

    /// <summary>Handles one record inside its consumer span (child of the span that published it).</summary>
    /// <param name="check">What a batch's query found before the record's turn (<see cref="PriorChecks"/>); null: look now.</param>
    public async Task RouteAsync(IncomingRecord record, PriorCheck? check, CancellationToken cancellationToken)
    {
        using var activity = OrderExportActivities.StartProcess(
            record.Topic, record.Partition, record.Offset, kafkaOptions.Value.ConsumerGroup,
            record.Header(MessageHeaders.TraceParent), record.Header(MessageHeaders.TraceState));
        activity?.SetTag("messaging.kafka.message.key", record.KeyText).SetTag("messaging.message.id", record.Header(MessageHeaders.EventId));
        try
        {
            var outcome = await HandleCoreAsync(record, check, cancellationToken);
            activity?.SetTag("orderexport.outcome", outcome);
            metrics.Handled(outcome);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    private async Task<string> HandleCoreAsync(IncomingRecord record, PriorCheck? check, CancellationToken cancellationToken)
    {
        if (record.Header(ControlHeaders.ReplayOf) is { } replayOf
            && long.TryParse(replayOf, NumberStyles.None, CultureInfo.InvariantCulture, out var deadLetterId))
        {
            return await replayer.ReplayAsync(record, deadLetterId, cancellationToken);
        }

        if (record.Header(ControlHeaders.ReleaseOrder) is { } release && Guid.TryParse(release, out var releasedOrder))
        {
            await parked.DrainAsync(releasedOrder, cancellationToken);
            return Outcomes.Released;
        }

        var (receivedEvent, unreadable) = ReceivedEventReader.Read(record);
        if (receivedEvent is null)
        {
            // A sound envelope of an unknown type or version names its order and event: behind a
            // held order it waits its turn like any event (and is dead-lettered when released).
            if (unreadable!.OrderId is { } heldOrder && unreadable.EventId is { } heldEvent
                && await parked.TryParkBehindHoldAsync(record, heldOrder, heldEvent, cancellationToken))
            {
                return Outcomes.Parked;
            }

            await exporter.DeadLetterUnreadableAsync(record, unreadable, cancellationToken);
            return Outcomes.DeadLettered;
        }

        var (orderId, eventId) = (receivedEvent.OrderId, receivedEvent.EventId);
        if (check is { } prior && prior.EventId == eventId && prior.OrderId == orderId)
        {
            // Checked with its batch: a duplicate, or an event of an order nothing holds.
            if (prior.Handled)
            {
                LogDuplicate(orderId, eventId);
                return Outcomes.Duplicate;
            }

            return await exporter.ExportAsync(record, receivedEvent, cancellationToken) ? Outcomes.Exported : Outcomes.DeadLettered;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var found = (await EventStanding.FindAsync(db, [eventId], [orderId], cancellationToken)).Select(f => f.Kind).ToHashSet();
        if (found.Contains(EventStanding.Handled))
        {
            LogDuplicate(orderId, eventId);
            return Outcomes.Duplicate;
        }

        if (found.Contains(EventStanding.DeadLettered))
        {
            await parked.ParkAsync(db, record, receivedEvent, cancellationToken);
            return Outcomes.Parked;
        }

        if (found.Contains(EventStanding.Parked))
        {
            // Parked events without a dead letter holding them: their release was interrupted.
            // They came first, so they go first.
            await parked.DrainAsync(orderId, cancellationToken);
            if (await ParkedEvents.HasUnresolvedDeadLetterAsync(db, orderId, cancellationToken)
                || await ParkedEvents.HasParkedAsync(db, orderId, cancellationToken))
            {
                await parked.ParkAsync(db, record, receivedEvent, cancellationToken);
                return Outcomes.Parked;
            }
        }

        return await exporter.ExportAsync(record, receivedEvent, cancellationToken) ? Outcomes.Exported : Outcomes.DeadLettered;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped duplicate of order {OrderId} event {EventId}: already handled")]
    private partial void LogDuplicate(Guid orderId, Guid eventId);
}
