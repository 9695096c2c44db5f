using System.Text.Json;
using System.Data.Common;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// The promise, counted: what the database says was asked for (every outbox row is one export
/// request of a confirmed order) against what the platform stored (every lifetime's fake
/// platform record, merged as one platform that keeps the first 200 per Idempotency-Key) and
/// what Kafka carried. Read straight from PostgreSQL and the broker, never through the service.
/// </summary>
public sealed record AuditResult
{
    public IReadOnlySet<Guid> ConfirmedOrders { get; init; } = new HashSet<Guid>();

    public int OrdersConfirmed => ConfirmedOrders.Count;

    public int Events { get; init; }

    public int ExportedOnce { get; init; }

    public IReadOnlyList<Guid> LostEvents { get; init; } = [];

    public int ExportedTwice { get; init; }

    public IReadOnlyList<Guid> PhantomExports { get; init; } = [];

    public int PlatformDuplicateCalls { get; init; }

    public int PlatformCalls { get; init; }

    public int KafkaRecords { get; init; }

    public int KafkaDuplicates { get; init; }

    public int DeadLetters { get; init; }

    public IReadOnlyDictionary<string, int> DeadLetterTypes { get; init; } = new Dictionary<string, int>();

    public int DeadLetterRecords { get; init; }

    public int Unpublished { get; init; }

    public int Parked { get; init; }

    /// <summary>Outbox rows on which the relay recorded at least one failed publish.</summary>
    public int RowsWithPublishFailures { get; init; }

    public IReadOnlyList<string> PublishErrors { get; init; } = [];

    public IReadOnlyList<string> OutOfOrder { get; init; } = [];

    public IReadOnlyList<Guid> ConfirmedWithoutEvent { get; init; } = [];

    /// <summary>For a failure message: what is known about the lost events and the phantom exports.</summary>
    public IReadOnlyList<string> Details { get; init; } = [];

    public int Lost => LostEvents.Count;

    /// <summary>
    /// Asserts the promise: every event exported once and in per-order order, nothing left in the
    /// outbox, dead letters only as expected, and every order a client saw confirmed really is.
    /// </summary>
    public void ShouldKeepThePromise(IReadOnlyCollection<Guid> acknowledgedConfirms, int expectedDeadLetters = 0, int? maxPlatformDuplicateCalls = 0)
    {
        var missing = acknowledgedConfirms.Where(id => !ConfirmedOrders.Contains(id)).ToList();
        var broken = new List<string>();
        void Check(bool ok, string what)
        {
            if (!ok)
            {
                broken.Add(what);
            }
        }

        Check(Events > 0, "the scenario sent nothing");
        Check(LostEvents.Count == 0, $"{LostEvents.Count} events neither exported nor dead-lettered: {Sample(LostEvents)}");
        Check(ExportedTwice == 0, $"{ExportedTwice} export requests stored twice by the platform");
        Check(PhantomExports.Count == 0, $"{PhantomExports.Count} exports of events the database never had: {Sample(PhantomExports)}");
        Check(OutOfOrder.Count == 0, $"per-order order broken: {string.Join("; ", OutOfOrder.Take(5))}");
        Check(Unpublished == 0, $"{Unpublished} outbox rows left unpublished");
        Check(Parked == 0, $"{Parked} events still parked");
        Check(DeadLetters == expectedDeadLetters,
            $"{DeadLetters} dead letters, expected {expectedDeadLetters} ({string.Join(", ", DeadLetterTypes.Select(t => $"{t.Key}: {t.Value}"))})");
        Check(ConfirmedWithoutEvent.Count == 0, $"{ConfirmedWithoutEvent.Count} confirmed orders without an export request");
        Check(missing.Count == 0, $"{missing.Count} orders a client saw confirmed are not confirmed in the database: {Sample(missing)}");
        Check(maxPlatformDuplicateCalls is not { } max || PlatformDuplicateCalls <= max,
            $"{PlatformDuplicateCalls} duplicate platform calls, at most {maxPlatformDuplicateCalls} expected");
        broken.ShouldBeEmpty(string.Join(Environment.NewLine, Details.Take(20)));
    }

    private static string Sample(IReadOnlyList<Guid> ids) => string.Join(", ", ids.Take(5)) + (ids.Count > 5 ? $" and {ids.Count - 5} more" : "");
}

public static class ExportAudit
{
    /// <summary>Counts everything; <paramref name="platforms"/> in lifetime order.</summary>
    public static async Task<AuditResult> TakeAsync(
        TestDatabase database, IReadOnlyList<FakePlatformRecorder> platforms, KafkaTestBroker broker, TestTopics topics)
    {
        var db = await ReadDatabaseAsync(database);

        // The platforms of all lifetimes as one: the first 200 per key is the export.
        var accepted = new Dictionary<Guid, int>();
        var firstAcceptances = new List<FakePlatformRequest>();
        var callCount = 0;
        foreach (var request in platforms.SelectMany(p => p.Received))
        {
            callCount++;
            if (request.StatusCode != 200)
            {
                continue;
            }

            accepted[request.EventId] = accepted.GetValueOrDefault(request.EventId) + 1;
            if (accepted[request.EventId] == 1)
            {
                firstAcceptances.Add(request);
            }
        }

        var deadLetteredEvents = db.DeadLetterEventIds.ToHashSet();
        var events = db.Events.ToDictionary(e => e.EventId);
        var keysPerRequest = firstAcceptances
            .GroupBy(a => (a.OrderId, a.Sequence))
            .ToDictionary(g => g.Key, g => g.Count());
        var outOfOrder = new List<string>();
        foreach (var order in firstAcceptances.GroupBy(a => a.OrderId))
        {
            var sequences = order.Select(a => a.Sequence).ToList();
            if (sequences.Zip(sequences.Skip(1)).Any(pair => pair.Second <= pair.First))
            {
                outOfOrder.Add($"order {order.Key}: {string.Join(",", sequences)}");
            }
        }

        var lost = events.Keys.Where(id => !accepted.ContainsKey(id) && !deadLetteredEvents.Contains(id)).ToList();
        var phantoms = accepted.Keys.Where(id => !events.ContainsKey(id)).ToList();
        var calls = platforms.SelectMany(p => p.Received).ToList();
        var details = lost.Select(id => events[id]).Select(e =>
                $"lost: order {e.OrderId} sequence {e.Sequence} event {e.EventId}, published: {e.Published}, "
                + $"platform calls with its key: {calls.Count(c => c.EventId == e.EventId)}")
            .Concat(phantoms.Select(id => calls.First(c => c.EventId == id)).Select(c =>
                $"phantom: order {c.OrderId} sequence {c.Sequence} event {c.EventId}: {c.Body}"))
            .ToList();
        var (kafkaRecords, kafkaDuplicates) = CountTopic(broker, topics.Topic, topics.Partitions);
        var (dlqRecords, _) = CountTopic(broker, topics.DeadLetterTopic, topics.Partitions);
        var eventOrders = db.Events.Select(e => e.OrderId).ToHashSet();

        return new AuditResult
        {
            ConfirmedOrders = db.ConfirmedOrders.ToHashSet(),
            Events = events.Count,
            ExportedOnce = events.Values.Count(e => accepted.ContainsKey(e.EventId) && keysPerRequest[(e.OrderId, e.Sequence)] == 1),
            LostEvents = lost,
            ExportedTwice = keysPerRequest.Values.Count(n => n > 1),
            PhantomExports = phantoms,
            PlatformDuplicateCalls = accepted.Values.Sum(n => n - 1),
            PlatformCalls = callCount,
            KafkaRecords = kafkaRecords,
            KafkaDuplicates = kafkaDuplicates,
            DeadLetters = db.DeadLetterTypes.Count,
            DeadLetterTypes = db.DeadLetterTypes.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count()),
            DeadLetterRecords = dlqRecords,
            Unpublished = db.Events.Count(e => !e.Published),
            Parked = db.Parked,
            RowsWithPublishFailures = db.Events.Count(e => e.Attempts > 0),
            PublishErrors = [.. db.Events.Where(e => e.LastError is not null).Select(e => e.LastError!).Distinct().Take(5)],
            OutOfOrder = outOfOrder,
            ConfirmedWithoutEvent = [.. db.ConfirmedOrders.Where(id => !eventOrders.Contains(id))],
            Details = details,
        };
    }

    /// <summary>
    /// Progress probe for draining: (events, handled = exported or dead-lettered, unpublished, dead
    /// letters). Only the database's own events count as handled: a dead letter or an export of
    /// something else (a record written straight to the topic) does not stand in for one.
    /// </summary>
    /// <summary>
    /// Events, those the platform took or that were dead-lettered, unpublished outbox rows, dead
    /// letters, and parked rows (a released event reaches the platform before the transaction that
    /// removes its parked row commits: a drain waits for both).
    /// </summary>
    public static async Task<(int Events, int Handled, int Unpublished, int DeadLetters, int Parked)> ProgressAsync(
        TestDatabase database, IReadOnlyList<FakePlatformRecorder> platforms)
    {
        await using var connection = await database.OpenAsync();
        var parked = await CountParkedAsync(connection);
        var events = await ListAsync(connection, "SELECT event_id, CASE WHEN published_at IS NULL THEN 1 ELSE 0 END FROM outbox_messages",
            r => (Id: r.GetGuid(0), Unpublished: Convert.ToInt32(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture) == 1));
        var deadLetters = await ListAsync(connection, "SELECT event_id FROM dead_letters", r => r.IsDBNull(0) ? (Guid?)null : r.GetGuid(0));
        var done = platforms.SelectMany(p => p.Exported).Select(r => r.EventId).ToHashSet();
        done.UnionWith(deadLetters.OfType<Guid>());
        return (events.Count, events.Count(e => done.Contains(e.Id)), events.Count(e => e.Unpublished), deadLetters.Count, parked);
    }

    /// <summary>All records of a topic up to its high watermarks, and how many repeat an event id already seen.</summary>
    public static (int Records, int Duplicates) CountTopic(KafkaTestBroker broker, string topic, int partitions)
    {
        using var reader = new TopicReader(broker, topic, partitions);
        var records = reader.ReadToEnd(TimeSpan.FromSeconds(60));
        var eventIds = records.Select(r => r.Headers.GetValueOrDefault(MessageHeaders.EventId)).OfType<string>().ToList();
        return (records.Count, eventIds.Count - eventIds.Distinct().Count());
    }

    private sealed record OutboxEvent(Guid EventId, Guid OrderId, int Sequence, bool Published, int Attempts, string? LastError);

    private sealed record DatabaseState(
        List<OutboxEvent> Events, List<Guid> ConfirmedOrders, List<Guid> DeadLetterEventIds, List<string> DeadLetterTypes, int Parked);

    /// <summary>Reads the tables with plain SQL that PostgreSQL and SQL Server both speak.</summary>
    private static async Task<DatabaseState> ReadDatabaseAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        var events = await ListAsync(connection,
            "SELECT event_id, order_id, payload, CASE WHEN published_at IS NULL THEN 0 ELSE 1 END, attempts, last_error FROM outbox_messages ORDER BY id",
            reader =>
            {
                using var envelope = JsonDocument.Parse(reader.GetString(2));
                return new OutboxEvent(
                    reader.GetGuid(0), reader.GetGuid(1), envelope.RootElement.GetProperty("payload").GetProperty("sequence").GetInt32(),
                    Convert.ToInt32(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture) == 1, reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5));
            });

        var confirmed = await ListAsync(connection, "SELECT id FROM orders WHERE status = 'Confirmed'", r => r.GetGuid(0));
        var deadLetterEvents = await ListAsync(connection, "SELECT event_id FROM dead_letters WHERE event_id IS NOT NULL", r => r.GetGuid(0));
        var deadLetterTypes = await ListAsync(connection, "SELECT error_type FROM dead_letters", r => r.GetString(0));
        return new DatabaseState(events, confirmed, deadLetterEvents, deadLetterTypes, await CountParkedAsync(connection));
    }

    private static async Task<int> CountParkedAsync(DbConnection connection) =>
        (await ListAsync(connection, "SELECT COUNT(*) FROM parked_messages",
            r => Convert.ToInt32(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture))).Single();

    private static async Task<List<T>> ListAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> read)
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellation))
        {
            list.Add(read(reader));
        }

        return list;
    }
}
