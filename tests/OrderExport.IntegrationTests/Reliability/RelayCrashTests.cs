using Confluent.Kafka;
using Npgsql;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Fault 3: the relay loses its claim after the broker acknowledged a batch and before the rows
/// were marked published, which is what a crash at that instant leaves behind. The batch goes to
/// Kafka a second time; the consumer must still export every order once.
/// </summary>
public sealed class RelayCrashTests
{
    private const int Orders = 400;
    private const int Windows = 3;

    /// <remarks>
    /// How the window is hit, with no hook in the service. The relay claims rows in a transaction
    /// (FOR UPDATE SKIP LOCKED) that stays open until it marks them, and its database connection
    /// runs through a TCP proxy. For each window:
    /// <list type="number">
    /// <item>the broker goes down, so the relay's next batch is claimed and then waits for acks (orders keep
    /// being confirmed meanwhile and pile up behind it);</item>
    /// <item>we see that claim from outside: rows locked by a session idle in transaction after the claim query;</item>
    /// <item>the proxy cuts every database connection: the claim's transaction is gone (PostgreSQL rolls it
    /// back), so whatever the relay does next, it cannot mark these rows;</item>
    /// <item>the broker comes back and acknowledges the held batch: we wait until those records are on Kafka and the
    /// relay's producer has the acknowledgements;</item>
    /// <item>the database comes back: the rows are still unpublished, so the relay publishes them again.</item>
    /// </list>
    /// Each window does this twice: after the first kill the broker goes down again before the database
    /// comes back, so the relay's next claim is the whole backlog that piled up, and that one is killed too.
    /// From Kafka's and the database's point of view this is exactly "the relay died between ack and mark".
    /// </remarks>
    [Fact]
    public async Task RelayLosingItsClaimBetweenBrokerAckAndMark_RepublishesTheBatch_YetEveryOrderIsExportedOnce()
    {
        await using var rig = await ReliabilityRig.CreateAsync(databaseProxy: true);
        using var topic = new TopicReader(rig.Broker, rig.Topics.Topic, rig.Topics.Partitions);
        var (app, http) = rig.StartApp();
        // Taken before any fault, so asking for it never replaces it (the service replaces a producer after a fatal error).
        var relayProducer = app.Service<KafkaProducer>().Producer;
        var workload = new OrderWorkload(concurrency: 8, reExportEvery: 5);
        var sending = workload.RunAsync(http, Orders, perSecond: 50);
        var republished = new List<int>();
        var restored = System.Diagnostics.Stopwatch.StartNew();

        for (var window = 1; window <= Windows; window++)
        {
            await Eventually.Until(() => Task.FromResult(workload.Confirmed), n => n >= Orders * window / (Windows + 1), TimeSpan.FromSeconds(90));
            rig.Cluster.BrokerDown();
            var first = await KillAfterAckAsync(rig, topic, relayProducer, brokerDownAfterAck: true);
            // The first claim was whatever was pending when the broker went; the relay's next claim is
            // the backlog that piled up behind it meanwhile, and the broker is still gone: kill that one too.
            var second = await KillAfterAckAsync(rig, topic, relayProducer, brokerDownAfterAck: false);
            restored.Restart();
            republished.Add(first.Union(second).Count());
        }

        await sending;
        // Generous: after repeated database cuts the consumer's own backoff (up to 30 s) and a busy
        // 2-core machine make this drain slow; correctness does not depend on its speed.
        var drain = await rig.WaitForDrainAsync(TimeSpan.FromSeconds(240));
        var sinceLastWindow = restored.Elapsed;

        var audit = await rig.AuditAsync();
        // After the outages the service still stops promptly and cleanly (regression guard for K1:
        // the LISTEN loop used to hang or throw ObjectDisposedException out of the host's stop).
        var stop = await rig.StopAppAsync(app);
        stop.ShouldBeLessThan(TimeSpan.FromSeconds(4.5), "every hosted service honours its stopping token after the outage");
        workload.ShouldHaveHadOnlyExpectedAnswers();
        audit.KafkaDuplicates.ShouldBeGreaterThanOrEqualTo(republished.Sum(),
            "every acknowledged-but-unmarked row must really have reached Kafka twice, or this test proves nothing");
        // The consumer's database also went away mid-record: at most one platform call per window and record in flight to absorb.
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, maxPlatformDuplicateCalls: Windows * rig.RecordsInFlight);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S3",
            "Relay dies between the broker's ack and marking the rows published",
            nameof(RelayLosingItsClaimBetweenBrokerAckAndMark_RepublishesTheBatch_YetEveryOrderIsExportedOnce),
            $"{Windows} crash windows while orders flow, each killing two claimed batches between ack and mark (broker down until the relay "
                + "holds a claim, database connections cut, broker up: batch acknowledged, not marked, database back); "
                + $"{string.Join(", ", republished)} rows published more than once") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = sinceLastWindow.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"drain timed from the end of the last window, while the clients finish (the final wait alone took {drain.TotalSeconds:0.0} s); "
                + $"Kafka duplicates are skipped by the consumer's inbox before any platform call; service stopped in {stop.TotalSeconds:0.0} s afterwards",
        });
    }

    /// <summary>
    /// One crash window, with the broker down: waits until the relay holds a claim whose produce is
    /// waiting, cuts the database, lets the broker acknowledge the batch (waits until it is on the
    /// topic and the relay's producer has the acknowledgements), then brings the database back.
    /// Returns the claimed (now twice-published) event ids.
    /// </summary>
    private static async Task<HashSet<Guid>> KillAfterAckAsync(
        ReliabilityRig rig, TopicReader topic, IProducer<string, byte[]> relayProducer, bool brokerDownAfterAck)
    {
        var claimed = await Eventually.Until(() => HeldClaimAsync(rig.Database.ConnectionString), ids => ids.Count > 0,
            TimeSpan.FromSeconds(30), "the relay holds a claim while its produce waits for the broker");
        rig.Proxy!.Cut();
        rig.Cluster.BrokerUp();
        await Eventually.Until(() => Task.FromResult(topic.ReadAvailable()),
            records => claimed.IsSubsetOf(records.Select(r => Guid.Parse(r.Headers[MessageHeaders.EventId]))),
            TimeSpan.FromSeconds(60), "the held batch was acknowledged by the broker (it is on the topic) but never marked");
        // On the topic is not yet acknowledged to the relay: the records may be there from an earlier, unmarked
        // publish of the same rows (a window's second claim; the next window's first when no new order came in
        // between), or the broker appended them and went down before it answered. Taking the broker down again
        // before the answer arrives leaves the relay waiting for it until the producer's message timeout (30 s),
        // with no claim to see. The producer's out-queue (records neither acknowledged nor failed yet) tells.
        await Eventually.Until(() => Task.FromResult(relayProducer.Flush(TimeSpan.Zero)), unacknowledged => unacknowledged == 0,
            TimeSpan.FromSeconds(60), "the relay's producer has the broker's acknowledgements of the held batch");
        if (brokerDownAfterAck)
        {
            rig.Cluster.BrokerDown();
        }

        rig.Proxy.Restore();
        return claimed;
    }

    /// <summary>
    /// Event ids of outbox rows that another session holds locked, while that session sits idle in
    /// transaction after the claim query: a claim whose publish is waiting. Empty otherwise.
    /// </summary>
    private static async Task<HashSet<Guid>> HeldClaimAsync(string connectionString)
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using (var waiting = new NpgsqlCommand("""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND state = 'idle in transaction' AND query LIKE '%FOR UPDATE SKIP LOCKED%'
              AND state_change < now() - interval '300 milliseconds'
            """, connection))
        {
            if ((long)(await waiting.ExecuteScalarAsync(cancellation))! == 0)
            {
                return [];
            }
        }

        // Rows we can lock are not claimed; the unpublished rest are. One statement, one snapshot.
        await using var locked = new NpgsqlCommand("""
            WITH free AS (SELECT id FROM outbox_messages WHERE published_at IS NULL FOR UPDATE SKIP LOCKED)
            SELECT event_id FROM outbox_messages WHERE published_at IS NULL AND id NOT IN (SELECT id FROM free)
            """, connection);
        await using var reader = await locked.ExecuteReaderAsync(cancellation);
        var ids = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellation))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
