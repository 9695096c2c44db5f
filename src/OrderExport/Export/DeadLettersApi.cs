using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Api;
using OrderExport.Messaging;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Operator routes (need <c>X-Api-Key</c>):
/// <list type="bullet">
/// <item><c>GET /dead-letters?status=Unresolved&amp;orderId=…&amp;limit=100</c>: list</item>
/// <item><c>GET /dead-letters/{id}</c>: one, with its payload</item>
/// <item><c>POST /dead-letters/{id}/replay</c>: send it back to <c>order-export</c> (same key)</item>
/// <item><c>POST /orders/{orderId}/dead-letters/replay</c>: replay all of an order's, oldest first</item>
/// <item><c>POST /dead-letters/{id}/discard</c>: give up on it and release the order's parked events (repeatable)</item>
/// </list>
/// Replays and releases travel as control records on the order's own partition, so they queue
/// behind everything already published for that order and the consumer keeps per-order order.
/// </summary>
public static class DeadLettersApi
{
    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder app)
    {
        var operations = app.MapGroup("").WithTags("Dead letters").AddEndpointFilter<ApiKeyFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        operations.MapGet("/dead-letters", ListDeadLetters);
        operations.MapGet("/dead-letters/{id:long}", GetDeadLetter).ProducesProblem(StatusCodes.Status404NotFound);
        operations.MapPost("/dead-letters/{id:long}/replay", ReplayDeadLetter)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        operations.MapPost("/orders/{orderId:guid}/dead-letters/replay", ReplayOrderDeadLetters);
        operations.MapPost("/dead-letters/{id:long}/discard", DiscardDeadLetter)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Ok<List<DeadLetterResponse>>> ListDeadLetters(
        OrderExportDbContext db, DeadLetterStatus? status, Guid? orderId, int? limit, CancellationToken cancellationToken)
    {
        var query = db.DeadLetters.AsNoTracking();
        if (status is { } s)
        {
            query = query.Where(d => d.Status == s);
        }

        if (orderId is { } id)
        {
            query = query.Where(d => d.OrderId == id);
        }

        var rows = await query.OrderBy(d => d.Id).Take(Math.Clamp(limit ?? 100, 1, 1000)).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(d => DeadLetterResponse.From(d, includePayload: false)).ToList());
    }

    public static async Task<Results<Ok<DeadLetterResponse>, ProblemHttpResult>> GetDeadLetter(
        long id, OrderExportDbContext db, CancellationToken cancellationToken)
    {
        var deadLetter = await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        return deadLetter is null ? NotFound(id) : TypedResults.Ok(DeadLetterResponse.From(deadLetter, includePayload: true));
    }

    public static async Task<Results<Accepted<DeadLetterResponse>, ProblemHttpResult>> ReplayDeadLetter(
        long id, OrderExportDbContext db, KafkaProducer producer, IOptions<KafkaOptions> kafka, CancellationToken cancellationToken)
    {
        var deadLetter = await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (deadLetter is null)
        {
            return NotFound(id);
        }

        if (deadLetter.Status != DeadLetterStatus.Unresolved)
        {
            return AlreadyResolved(deadLetter);
        }

        if (deadLetter.OrderId is { } orderId
            && await ParkedEvents.OlderUnresolvedDeadLetters(db, orderId, deadLetter.Id).Select(d => (long?)d.Id).FirstOrDefaultAsync(cancellationToken) is { } older)
        {
            return TypedResults.Problem(
                title: "An older dead letter of this order is unresolved",
                detail: $"Dead letter {older} of order {orderId} came first and is unresolved; replaying {deadLetter.Id} now would export it out of order. Replay or discard {older} first, or replay the order's dead letters together (POST /orders/{orderId}/dead-letters/replay).",
                statusCode: StatusCodes.Status409Conflict, type: Problems.OlderDeadLetterUnresolved);
        }

        using var raw = producer.RawProducer();
        await raw.ProduceAsync(ReplayDestination(deadLetter, kafka.Value.Topic), ReplayRecord(deadLetter), cancellationToken);
        return TypedResults.Accepted($"/dead-letters/{id}", DeadLetterResponse.From(deadLetter, includePayload: false));
    }

    public static async Task<Accepted<List<DeadLetterResponse>>> ReplayOrderDeadLetters(
        Guid orderId, OrderExportDbContext db, KafkaProducer producer, IOptions<KafkaOptions> kafka, CancellationToken cancellationToken)
    {
        var deadLetters = await db.DeadLetters.AsNoTracking()
            .Where(d => d.OrderId == orderId && d.Status == DeadLetterStatus.Unresolved)
            .OrderBy(d => d.Id)
            .ToListAsync(cancellationToken);
        // One after the other: same partition, so they are consumed in this order.
        using var raw = producer.RawProducer();
        foreach (var deadLetter in deadLetters)
        {
            await raw.ProduceAsync(ReplayDestination(deadLetter, kafka.Value.Topic), ReplayRecord(deadLetter), cancellationToken);
        }

        return TypedResults.Accepted($"/dead-letters?orderId={orderId}",
            deadLetters.Select(d => DeadLetterResponse.From(d, includePayload: false)).ToList());
    }

    public static async Task<Results<Ok<DeadLetterResponse>, ProblemHttpResult>> DiscardDeadLetter(
        long id, OrderExportDbContext db, KafkaProducer producer, IOptions<KafkaOptions> kafka, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var deadLetter = await db.DeadLetters.SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (deadLetter is null)
        {
            return NotFound(id);
        }

        try
        {
            if (deadLetter.Discard(time.GetUtcNow().UtcDateTime))
            {
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        catch (DeadLetterResolvedException)
        {
            return AlreadyResolved(deadLetter);
        }

        if (deadLetter.OrderId is { } orderId)
        {
            // Discarding again is allowed and sends the release again: if this produce fails, the
            // discard stands and the 503 tells the operator to repeat it. (Any later event of the
            // order also releases the parked ones first.)
            await producer.Producer.ProduceAsync(ReplayDestination(deadLetter, kafka.Value.Topic), new Message<string, byte[]>
            {
                Key = orderId.ToString(),
                Value = [],
                Headers = WithTraceContext(new Headers { { ControlHeaders.ReleaseOrder, Encoding.UTF8.GetBytes(orderId.ToString()) } }),
            }, cancellationToken);
        }

        return TypedResults.Ok(DeadLetterResponse.From(deadLetter, includePayload: false));
    }

    /// <summary>
    /// The dead letter's own partition: the control record queues behind everything its record
    /// was queued with, whatever partitioner produced that record (order-export's partition count
    /// never changes; see README). Another topic (a renamed one) falls back to the key.
    /// </summary>
    private static TopicPartition ReplayDestination(DeadLetter deadLetter, string topic) =>
        new(topic, deadLetter.Topic == topic ? new Partition(deadLetter.Partition) : Partition.Any);

    /// <summary>
    /// A control record naming the dead letter; the consumer exports the stored record, not this
    /// one's value (empty), and checks that key and event id match the dead letter.
    /// </summary>
    private static Message<byte[], byte[]> ReplayRecord(DeadLetter deadLetter)
    {
        var headers = new Headers
        {
            { ControlHeaders.ReplayOf, Encoding.UTF8.GetBytes(deadLetter.Id.ToString(CultureInfo.InvariantCulture)) },
        };
        if (deadLetter.EventId is { } eventId)
        {
            headers.Add(MessageHeaders.EventId, Encoding.UTF8.GetBytes(eventId.ToString()));
        }

        return new Message<byte[], byte[]> { Key = deadLetter.KeyBytes()!, Value = [], Headers = WithTraceContext(headers) };
    }

    /// <summary>The operator's request is the parent of the consumer's work on the control record.</summary>
    private static Headers WithTraceContext(Headers headers)
    {
        var (traceParent, traceState) = OrderExportActivities.Context(Activity.Current);
        return TraceHeaders.Add(headers, traceParent, traceState);
    }

    private static ProblemHttpResult NotFound(long id) => TypedResults.Problem(
        title: "Dead letter not found", detail: $"There is no dead letter {id}.",
        statusCode: StatusCodes.Status404NotFound, type: Problems.NotFound);

    private static ProblemHttpResult AlreadyResolved(DeadLetter deadLetter) => TypedResults.Problem(
        title: "Dead letter already resolved", detail: $"Dead letter {deadLetter.Id} is {deadLetter.Status}.",
        statusCode: StatusCodes.Status409Conflict, type: Problems.DeadLetterResolved);
}

/// <summary>
/// A dead letter as operators see it. <c>Key</c> and <c>Value</c> are the record's own: text as
/// text, binary as <c>base64:…</c>; in lists <c>Value</c> is cut at <see cref="ValuePreviewLength"/>
/// characters (<c>ValueTruncated</c>); <c>GET /dead-letters/{id}</c> gives it whole as <c>Payload</c>.
/// </summary>
public sealed record DeadLetterResponse(
    long Id, Guid? EventId, Guid? OrderId, string Topic, int Partition, long Offset, string? Key, string Value, bool ValueTruncated,
    string ErrorType, string ErrorMessage, int Attempts, DateTime FirstFailureAt, DateTime LastFailureAt, DeadLetterStatus Status,
    DateTime? ResolvedAt, string? Payload)
{
    public const int ValuePreviewLength = 1024;

    public static DeadLetterResponse From(DeadLetter d, bool includePayload) => new(
        d.Id, d.EventId, d.OrderId, d.Topic, d.Partition, d.Offset, d.MessageKey,
        d.Payload.Length > ValuePreviewLength ? d.Payload[..ValuePreviewLength] : d.Payload, d.Payload.Length > ValuePreviewLength,
        d.ErrorType, d.ErrorMessage, d.Attempts, d.FirstFailureAtUtc, d.LastFailureAtUtc, d.Status, d.ResolvedAtUtc,
        includePayload ? d.Payload : null);
}
