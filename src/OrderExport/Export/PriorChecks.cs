using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using OrderExport.Messaging;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>
/// What the database said of a fetched record's event and order before the record's turn came:
/// <see cref="Handled"/> (its inbox row or parked row exists: a duplicate), or else clear (not
/// handled, and its order holds no unresolved dead letter and no parked event: export it).
/// A record whose order is held gets no check, and is looked at alone when its turn comes.
/// </summary>
public readonly record struct PriorCheck(Guid EventId, Guid OrderId, bool Handled);

/// <summary>
/// The duplicate, dead-letter and parking checks for a batch of fetched records in one query,
/// instead of one per record. Valid only where nothing can change the answer before the record
/// runs: <see cref="PartitionWork"/> asks for records whose order has nothing else in hand or
/// ahead of them in the batch, and only one partition's worker handles an order's records.
/// </summary>
public sealed partial class PriorChecks(IServiceScopeFactory scopes, ILogger<PriorChecks> logger)
{
    /// <summary>
    /// A check per record, in order; null where the record is a control record, names no event or
    /// order in its headers and key, or its order is held. A failed query is no answer (all null):
    /// each record then checks on its own, with its own retries.
    /// </summary>
    internal async Task<PriorCheck?[]> CheckAsync(IReadOnlyList<ConsumeResult<byte[], byte[]>> records, CancellationToken cancellationToken)
    {
        var checks = new PriorCheck?[records.Count];
        var named = new (Guid EventId, Guid OrderId)?[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            named[i] = Names(records[i]);
        }

        var eventIds = named.OfType<(Guid EventId, Guid OrderId)>().Select(n => n.EventId).Distinct().ToList();
        if (eventIds.Count == 0)
        {
            return checks;
        }

        var orderIds = named.OfType<(Guid EventId, Guid OrderId)>().Select(n => n.OrderId).Distinct().ToList();
        List<Found> found;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            found = await FindAsync(db, eventIds, orderIds, cancellationToken);
        }
        catch (Exception ex)
        {
            // Stopping (SqlClient may report a cancelled query as a SqlException, not as a cancellation:
            // dotnet/SqlClient#26), or the database is away: no answer, and the worker sees the stop itself.
            if (!cancellationToken.IsCancellationRequested)
            {
                LogCheckFailed(ex, records.Count);
            }

            return checks;
        }

        var handled = found.Where(f => f.Kind == Found.HandledEvent).Select(f => f.Id).ToHashSet();
        var held = found.Where(f => f.Kind == Found.HeldOrder).Select(f => f.Id).ToHashSet();
        for (var i = 0; i < records.Count; i++)
        {
            if (named[i] is var (eventId, orderId))
            {
                checks[i] = handled.Contains(eventId) ? new PriorCheck(eventId, orderId, Handled: true)
                    : held.Contains(orderId) ? null
                    : new PriorCheck(eventId, orderId, Handled: false);
            }
        }

        return checks;
    }

    /// <summary>The event and order an ordinary record names (header and key, as the relay writes them); null for anything else.</summary>
    private static (Guid EventId, Guid OrderId)? Names(ConsumeResult<byte[], byte[]> record)
    {
        var headers = record.Message.Headers;
        if (headers is null || record.Message.Key is not { } key
            || headers.TryGetLastBytes(ControlHeaders.ReplayOf, out _) || headers.TryGetLastBytes(ControlHeaders.ReleaseOrder, out _)
            || !headers.TryGetLastBytes(MessageHeaders.EventId, out var eventHeader) || eventHeader is null
            || !Guid.TryParse(Encoding.UTF8.GetString(eventHeader), out var eventId)
            || !Guid.TryParseExact(Encoding.UTF8.GetString(key), "D", out var orderId))
        {
            return null;
        }

        return (eventId, orderId);
    }

    /// <summary>A row of the check: an event already handled or parked, or an order held by a dead letter or parked events.</summary>
    private sealed record Found(int Kind, Guid Id)
    {
        public const int HandledEvent = 1;
        public const int HeldOrder = 2;
    }

    private static async Task<List<Found>> FindAsync(OrderExportDbContext db, List<Guid> eventIds, List<Guid> orderIds, CancellationToken cancellationToken)
    {
        var rows = await db.Set<InboxMessage>().Where(m => eventIds.Contains(m.EventId)).Select(m => new { Kind = Found.HandledEvent, Id = m.EventId })
            .Concat(db.Set<ParkedMessage>().Where(p => eventIds.Contains(p.EventId)).Select(p => new { Kind = Found.HandledEvent, Id = p.EventId }))
            .Concat(db.Set<DeadLetter>().Where(d => d.OrderId != null && orderIds.Contains(d.OrderId.Value) && d.Status == DeadLetterStatus.Unresolved)
                .Select(d => new { Kind = Found.HeldOrder, Id = d.OrderId!.Value }))
            .Concat(db.Set<ParkedMessage>().Where(p => orderIds.Contains(p.OrderId)).Select(p => new { Kind = Found.HeldOrder, Id = p.OrderId }))
            // An order with many parked events is one row, not one per event.
            .Distinct()
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r => new Found(r.Kind, r.Id));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking {Count} fetched records in one query failed; each is checked on its own")]
    private partial void LogCheckFailed(Exception exception, int count);
}
