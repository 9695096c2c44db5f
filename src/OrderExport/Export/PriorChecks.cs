using System.Text;
using Confluent.Kafka;
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
        List<(int Kind, Guid Id)> found;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            found = await EventStanding.FindAsync(db, eventIds, orderIds, cancellationToken);
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

        var handled = found.Where(f => f.Kind == EventStanding.Handled).Select(f => f.Id).ToHashSet();
        // Held by an unresolved dead letter or by parked events: the record looks alone when its turn comes.
        var held = found.Where(f => f.Kind != EventStanding.Handled).Select(f => f.Id).ToHashSet();
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
        if (headers is null || OrderIdKey.From(record.Message.Key) is not { } orderId
            || headers.TryGetLastBytes(ControlHeaders.ReplayOf, out _) || headers.TryGetLastBytes(ControlHeaders.ReleaseOrder, out _)
            || !headers.TryGetLastBytes(MessageHeaders.EventId, out var eventHeader) || eventHeader is null
            || !Guid.TryParse(Encoding.UTF8.GetString(eventHeader), out var eventId))
        {
            return null;
        }

        return (eventId, orderId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking {Count} fetched records in one query failed; each is checked on its own")]
    private partial void LogCheckFailed(Exception exception, int count);
}
