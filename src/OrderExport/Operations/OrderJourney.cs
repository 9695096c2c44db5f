using System.Globalization;
using OrderExport.Export;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Telemetry;

namespace OrderExport.Operations;

/// <summary>
/// One order from its creation to the platform, step by step, from what the service stores (the
/// order, its outbox rows, inbox rows and dead letters) and what this instance saw in memory (the
/// platform attempts, the record in hand). A step the service does not know is <see cref="StepState.Unknown"/>,
/// with the reason; nothing is guessed.
/// </summary>
public sealed record OrderJourney(OrderSummary Order, IReadOnlyList<JourneyStep> Steps)
{
    private const string MemoryNote = "from this instance's memory since it started (its last 2000 orders); "
        + "a restart or another replica's work is not in it";

    internal static OrderJourney Build(
        Order order, IReadOnlyList<OutboxMessage> outbox, IReadOnlyList<InboxMessage> inbox, IReadOnlyList<DeadLetter> deadLetters,
        IReadOnlyList<FetchedRecord> fetched, IReadOnlyList<PlatformAttemptRecord> attempts, string? waiting)
    {
        // The service stores no partition or offset for a published record; this instance's consumer saw some.
        var positions = fetched.Count == 0
            ? "partition and offset not recorded (this instance's consumer has not fetched a record of this order)"
            : "this order's records as this instance's consumer fetched them: "
              + string.Join("; ", fetched.Select(f => $"partition {f.Partition} @ offset {f.Offset} at {f.At.UtcDateTime:HH:mm:ss.fff}"));
        // No row yet counts as unpublished here: a journey never calls an order Published before its event exists.
        var exportStatus = OrderExportStatus.Of(order.ExportStatus, outbox.Count == 0 || outbox.Any(m => m.PublishedAtUtc is null));
        var summary = new OrderSummary(order.Id, order.CustomerId, order.Amount, order.Currency, order.Status, exportStatus,
            order.CreatedAtUtc, order.ConfirmedAtUtc);
        var steps = new List<JourneyStep>
        {
            new("Created", StepState.Done, order.CreatedAtUtc, $"customer {order.CustomerId}, {order.Amount.ToString(CultureInfo.InvariantCulture)} {order.Currency}", null,
                "trace id not recorded for this step"),
            order.ConfirmedAtUtc is { } confirmed
                ? new("Confirmed", StepState.Done, confirmed, "export requested", TraceId(outbox.FirstOrDefault()?.TraceParent), null)
                : new("Confirmed", StepState.Waiting, null, "still a draft", null, null),
        };

        foreach (var message in outbox)
        {
            var traceId = TraceId(message.TraceParent);
            var traceNote = traceId is null ? "no trace context was recorded with this outbox row" : null;
            var label = $"event {message.EventId}";
            steps.Add(new("Outbox row", StepState.Done, message.CreatedAtUtc, $"{label} ({message.EventType} v{message.SchemaVersion})", traceId, traceNote));

            steps.Add(message.PublishedAtUtc is { } published
                ? new("Published", StepState.Done, published,
                    $"{waiting ?? positions}{Retried(message.Attempts)}", traceId, fetched.Count > 0 ? $"partition/offset {MemoryNote}" : traceNote)
                : new("Published", StepState.Waiting, null,
                    $"not yet; {message.Attempts} failed attempt(s){(message.LastError is null ? "" : $", last: {message.LastError}")}"
                    + (message.NextAttemptAtUtc is { } next ? $", next at {next:O}" : ""), traceId, traceNote));

            var handled = inbox.FirstOrDefault(i => i.EventId == message.EventId);
            var eventDeadLetters = deadLetters.Where(d => d.EventId == message.EventId).ToList();
            steps.Add(handled is not null
                ? fetched.Count == 1 && outbox.Count == 1
                    // The order's only record, so the only fetch was this one.
                    ? new("Consumed", StepState.Done, fetched[0].At.UtcDateTime,
                        $"fetched from partition {fetched[0].Partition} @ offset {fetched[0].Offset}; outcome {handled.Outcome} recorded at {handled.HandledAtUtc:O}", traceId, null)
                    : new("Consumed", StepState.Done, null, $"fetched and handled, outcome {handled.Outcome} recorded at {handled.HandledAtUtc:O}",
                        traceId, "the time the consumer fetched it is not known for an order with several records")
                : eventDeadLetters.Count > 0
                    ? new("Consumed", StepState.Done, eventDeadLetters[0].FirstFailureAtUtc, "consumed and failed (see the dead letter)", traceId, traceNote)
                    : message.PublishedAtUtc is null
                        ? new("Consumed", StepState.Waiting, null, "not published yet", traceId, traceNote)
                        : order.ExportStatus == ExportStatus.Exported && order.ExportSequence > 0
                            ? new("Consumed", StepState.Unknown, null, "no inbox row: removed by retention, or a later export request superseded it", traceId, traceNote)
                            : new("Consumed", StepState.Waiting, null, waiting ?? "not handled yet", traceId, traceNote));

            var eventAttempts = attempts.Where(a => a.EventId == message.EventId).ToList();
            if (eventAttempts.Count == 0)
            {
                steps.Add(new("Platform attempt", StepState.Unknown, null,
                    handled is null && eventDeadLetters.Count == 0 ? "none seen yet" : "none recorded", null, MemoryNote));
            }

            foreach (var attempt in eventAttempts)
            {
                var ok = int.TryParse(attempt.Status, CultureInfo.InvariantCulture, out var code) && code is >= 200 and < 300;
                steps.Add(new($"Platform attempt {attempt.Attempt}", ok ? StepState.Done : StepState.Failed, attempt.StartedAt.UtcDateTime,
                    string.Create(CultureInfo.InvariantCulture, $"{(code > 0 ? $"HTTP {code}" : attempt.Status)} in {attempt.Duration.TotalMilliseconds:0} ms"),
                    attempt.TraceId, null));
            }

            foreach (var deadLetter in eventDeadLetters)
            {
                steps.Add(DeadLettered(deadLetter, traceId));
            }

            if (handled is { Outcome: InboxOutcome.Exported })
            {
                steps.Add(new("Exported", StepState.Done, handled.HandledAtUtc, "the platform accepted it", traceId, traceNote));
            }
        }

        foreach (var deadLetter in deadLetters.Where(d => d.EventId is null || outbox.All(m => m.EventId != d.EventId)))
        {
            steps.Add(DeadLettered(deadLetter, null));
        }

        if (outbox.Count == 0 && order.ConfirmedAtUtc is not null)
        {
            steps.Add(new("Outbox row", StepState.Unknown, null, "no outbox row: published and removed by the outbox retention", null, null));
        }

        steps.Add(new("Export status", exportStatus switch
        {
            ExportStatus.Exported => StepState.Done,
            ExportStatus.DeadLettered => StepState.Failed,
            ExportStatus.NotRequested => StepState.Unknown,
            _ => StepState.Waiting,
        }, null, exportStatus.ToString(), null, null));
        return new OrderJourney(summary, steps);
    }

    private static JourneyStep DeadLettered(DeadLetter d, string? traceId) => new(
        "DeadLettered", d.Status == DeadLetterStatus.Unresolved ? StepState.Failed : StepState.Done, d.FirstFailureAtUtc,
        $"dead letter {d.Id} ({d.Status}) from {d.Topic} partition {d.Partition} @ offset {d.Offset}, {d.Attempts} attempt(s): {d.ErrorType}: {d.ErrorMessage}",
        traceId, null);

    private static string Retried(int retries) => retries > 0 ? $"; published after {retries} failed attempt(s)" : "";

    /// <summary>The trace id of a W3C traceparent (version-traceid-spanid-flags).</summary>
    internal static string? TraceId(string? traceParent) =>
        traceParent?.Split('-') is [_, var traceId, _, _] && traceId.Length == 32 ? traceId : null;
}

/// <summary>One step: what happened, when, with which trace; <see cref="Note"/> says what is not known about it.</summary>
public sealed record JourneyStep(string Name, StepState State, DateTime? At, string Detail, string? TraceId, string? Note);

public enum StepState
{
    Done,
    Waiting,
    Failed,
    Unknown,
}
