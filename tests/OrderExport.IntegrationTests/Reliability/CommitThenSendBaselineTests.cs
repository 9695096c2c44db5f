using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// The baseline: the original Spring sample's way of getting events out (commit the order, then
/// send the event straight to Kafka from an after-commit listener, no outbox), against the
/// service, under the same fault: the process dies while the sends of orders it already committed
/// are still pending. Same schedule, same counts, both on a private embedded broker.
/// </summary>
/// <remarks>
/// The crash, for both: after a chunk of normal orders the broker becomes unreachable, a few more
/// orders are committed (their events cannot leave the process), and the process ends; then the
/// broker comes back and a new process carries on. The baseline's producer goes with its process,
/// and so does every event it had not delivered: nothing durable says they still need sending.
/// The service's lifetime ends the same way (its relay cannot publish either), but its events are
/// rows in the outbox, committed with the orders, and the next lifetime publishes them.
/// </remarks>
public sealed class CommitThenSendBaselineTests
{
    private const int Crashes = 5;
    private const int OrdersPerChunk = 70;
    private const int OrdersInCrashWindow = 10;
    private const int Orders = Crashes * (OrdersPerChunk + OrdersInCrashWindow);

    [Fact]
    public async Task CommitThenSend_LosesTheEventsOfOrdersCommittedJustBeforeTheProcessDies()
    {
        using var broker = KafkaTestBroker.StartPrivate();
        await using var database = await PostgresDatabase.CreateAsync();
        var topics = await broker.CreateTopicsAsync();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using (var create = dataSource.CreateCommand(
                         "CREATE TABLE baseline_orders (id uuid PRIMARY KEY, customer_id text NOT NULL, confirmed_at timestamptz NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var clock = Stopwatch.StartNew();
        var sendFailures = 0;
        var number = 0;
        for (var crash = 1; crash <= Crashes; crash++)
        {
            var process = new CommitThenSendProcess(dataSource, broker, topics.Topic, () => Interlocked.Increment(ref sendFailures));
            for (var i = 0; i < OrdersPerChunk; i++)
            {
                await process.ConfirmAsync(++number);
            }

            // Normal operation: these sends complete (a process that lives longer than a test would have sent them).
            process.WaitForDeliveries();
            broker.Embedded!.BrokerDown();
            for (var i = 0; i < OrdersInCrashWindow; i++)
            {
                await process.ConfirmAsync(++number);
            }

            process.Die();
            broker.Embedded.BrokerUp();
        }

        var committed = await CountAsync(dataSource, "SELECT count(*) FROM baseline_orders");
        var (records, duplicates) = ExportAudit.CountTopic(broker, topics.Topic, topics.Partitions);
        var lost = committed - (records - duplicates);
        lost.ShouldBeGreaterThan(0, "the baseline must show the loss the outbox exists to prevent");
        ReliabilityReport.Record(new ScenarioResult
        {
            Id = "B1",
            Title = "Baseline: commit, then send to Kafka (no outbox), process dies between the two",
            Test = nameof(CommitThenSend_LosesTheEventsOfOrdersCommittedJustBeforeTheProcessDies),
            Faults = CrashSchedule,
            OrdersSent = number,
            Events = committed,
            ExportedOnce = records - duplicates,
            Lost = lost,
            KafkaDuplicates = duplicates,
            DurationSeconds = clock.Elapsed.TotalSeconds,
            Notes = $"counted at Kafka (the baseline has no consumer): {committed} orders committed, {records - duplicates} events on the topic; "
                + $"the producer's delivery callback reported {sendFailures} of the {lost} lost sends: nothing noticed the loss",
        });
    }

    [Fact]
    public async Task Outbox_LosesNothing_WhenTheProcessDiesBetweenCommitAndPublish()
    {
        await using var rig = await ReliabilityRig.CreateAsync();
        // These lifetimes only take orders and relay; a last lifetime runs the consumer. A short
        // message timeout lets a lifetime end soon after the broker went away.
        var dying = new Dictionary<string, string?> { ["Consumer:Enabled"] = "false", ["Kafka:Producer:MessageTimeoutMs"] = "1000" };
        var workload = new OrderWorkload(concurrency: 1);
        var leftBehind = new List<int>();

        for (var crash = 1; crash <= Crashes; crash++)
        {
            var (app, http) = rig.StartApp(dying);
            await workload.RunAsync(http, OrdersPerChunk);
            rig.Cluster.BrokerDown();
            await workload.RunAsync(http, OrdersInCrashWindow);
            await rig.StopAppAsync(app);
            rig.Cluster.BrokerUp();
            var unpublished = (await ExportAudit.ProgressAsync(rig.Database, rig.Platforms)).Unpublished;
            unpublished.ShouldBeGreaterThan(0, "the lifetime must have ended with events it did not publish");
            leftBehind.Add(unpublished);
        }

        var restarted = Stopwatch.StartNew();
        rig.StartApp();
        await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));
        var drain = restarted.Elapsed;

        var audit = await rig.AuditAsync();
        workload.ShouldHaveHadOnlyExpectedAnswers();
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "B2",
            "The service (outbox) under the baseline's fault",
            nameof(Outbox_LosesNothing_WhenTheProcessDiesBetweenCommitAndPublish),
            $"{CrashSchedule}; unpublished events left in the outbox at each death: {string.Join(", ", leftBehind)}") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = "counted at the platform; the drain is timed from the start of the last lifetime (which also runs the consumer)",
        });
    }

    private static string CrashSchedule =>
        $"{Crashes} process deaths, each after {OrdersPerChunk} normal orders and {OrdersInCrashWindow} more committed while the broker was unreachable";

    private static async Task<int> CountAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (int)(long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>
    /// One process of the Spring sample's design: the order commits, then an after-commit listener
    /// hands the event to the producer (asynchronously, like KafkaTemplate.send) and the request
    /// is answered. A failed send can only be logged.
    /// </summary>
    private sealed class CommitThenSendProcess(NpgsqlDataSource db, KafkaTestBroker broker, string topic, Action onSendFailed)
    {
        private readonly IProducer<string, string> _producer = new ProducerBuilder<string, string>(broker.ProducerConfig()).Build();

        public async Task ConfirmAsync(int number)
        {
            var orderId = Guid.CreateVersion7();
            await using (var insert = db.CreateCommand("INSERT INTO baseline_orders (id, customer_id, confirmed_at) VALUES ($1, $2, now())"))
            {
                insert.Parameters.AddWithValue(orderId);
                insert.Parameters.AddWithValue($"customer-{number}");
                await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }

            // After the commit: the send.
            _producer.Produce(topic, new Message<string, string>
            {
                Key = orderId.ToString(),
                Value = JsonSerializer.Serialize(new { orderId, customerId = $"customer-{number}" }),
            }, report =>
            {
                if (report.Error.IsError)
                {
                    onSendFailed();
                }
            });
        }

        public void WaitForDeliveries() => _producer.Flush(TimeSpan.FromSeconds(30)).ShouldBe(0, "normal sends are delivered");

        /// <summary>The process ends: its producer, and every event it had not delivered, go with it.</summary>
        public void Die() => _producer.Dispose();
    }
}
