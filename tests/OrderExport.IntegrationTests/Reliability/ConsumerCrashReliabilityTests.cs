using Confluent.Kafka;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;
using OrderExport.Messaging.Embedded;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Fault 4: the consumer dies after calling the platform and before its offsets are committed,
/// twice, in the middle of a backlog. Everything it handled is delivered again to the next
/// lifetime, which must not export any of it a second time.
/// </summary>
public sealed class ConsumerCrashReliabilityTests
{
    private const int OrdersPerLifetime = 200;
    private const int Crashes = 2;

    /// <remarks>
    /// The crash, as Kafka sees it: the crashing lifetimes never commit on their own (commit
    /// interval 60 s, longer than they live), and their final commit on shutdown fails because
    /// every OffsetCommit request is answered with an error (a private cluster, so no other test's
    /// group is hit). So every record they exported stays uncommitted and is delivered again. A
    /// short session timeout keeps a dead member from holding partitions for long.
    /// </remarks>
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ConsumerKilledAfterThePlatformCallBeforeTheOffsetCommit_TwiceMidBacklog_EveryOrderIsExportedOnce(DatabaseProvider provider)
    {
        await using var rig = await ReliabilityRig.CreateAsync(provider: provider);
        var crashing = new Dictionary<string, string?>
        {
            ["Consumer:AutoCommitIntervalMs"] = "60000",
            ["Consumer:SessionTimeoutMs"] = "6000",
        };
        var workload = new OrderWorkload(concurrency: 8, reExportEvery: 5);
        var redelivered = 0;
        var kills = new List<string>();
        var lastCrash = System.Diagnostics.Stopwatch.StartNew();

        for (var life = 1; life <= Crashes + 1; life++)
        {
            var (app, http) = rig.StartApp(life <= Crashes ? crashing : null);
            await workload.RunAsync(http, OrdersPerLifetime);
            if (life > Crashes)
            {
                break;
            }

            // Kill it mid-backlog: once it has exported at least half of what is waiting for it.
            var progress = await ExportAudit.ProgressAsync(rig.Database, rig.Platforms);
            var half = progress.Handled + ((progress.Events - progress.Handled) / 2);
            await Eventually.Until(() => ExportAudit.ProgressAsync(rig.Database, rig.Platforms),
                p => p.Handled >= half, TimeSpan.FromSeconds(90), "half of the backlog exported");
            rig.Cluster.PushRequestErrors(EmbeddedKafkaCluster.ApiKeys.OffsetCommit,
                Enumerable.Repeat(ErrorCode.GroupAuthorizationFailed, 500).ToArray());
            await rig.StopAppAsync(app);
            rig.Cluster.ClearRequestErrors(EmbeddedKafkaCluster.ApiKeys.OffsetCommit);
            lastCrash.Restart();

            var handled = await InboxCountAsync(rig.Database);
            var committed = CommittedRecords(rig);
            (handled - committed).ShouldBeGreaterThan(0, "records handled but not committed: the crash window must not be empty");
            redelivered += handled - committed;
            kills.Add($"killed with {handled - committed} records handled and uncommitted");
        }

        var drain = await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));
        var records = ExportAudit.CountTopic(rig.Broker, rig.Topics.Topic, rig.Topics.Partitions).Records;
        await Eventually.Until(() => Task.FromResult(CommittedRecords(rig)), c => c >= records,
            TimeSpan.FromSeconds(30), "the last lifetime read (and committed) everything, the redelivered records included");
        var sinceCrash = lastCrash.Elapsed;

        var audit = await rig.AuditAsync();
        workload.ShouldHaveHadOnlyExpectedAnswers();
        // A kill may interrupt every record in flight between the platform's 200 and the inbox write.
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, maxPlatformDuplicateCalls: Crashes * rig.RecordsInFlight);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            ReliabilityReport.IdFor("S4", provider),
            ReliabilityReport.TitleFor("Consumer dies after the platform call, before the offset commit", provider),
            nameof(ConsumerKilledAfterThePlatformCallBeforeTheOffsetCommit_TwiceMidBacklog_EveryOrderIsExportedOnce),
            $"3 lifetimes of {OrdersPerLifetime} orders; the first two killed mid-backlog with every offset commit failing "
                + $"({string.Join("; ", kills)})") with
        {
            OrdersSent = workload.Sent,
            Redelivered = redelivered,
            DrainSeconds = sinceCrash.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"drain timed from the second kill, while the last lifetime's clients send their {OrdersPerLifetime} orders "
                + $"(the final wait alone took {drain.TotalSeconds:0.0} s); redelivered records are skipped by the inbox",
        });
    }

    private static async Task<int> InboxCountAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM inbox_messages";
        return Convert.ToInt32(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Records below the group's committed offsets, over all partitions.</summary>
    private static int CommittedRecords(ReliabilityRig rig)
    {
        using var probe = new ConsumerBuilder<byte[], byte[]>(rig.Broker.ConsumerConfig(rig.Topics.ConsumerGroup)).Build();
        var partitions = Enumerable.Range(0, rig.Topics.Partitions).Select(p => new TopicPartition(rig.Topics.Topic, p));
        return (int)probe.Committed(partitions, TimeSpan.FromSeconds(10)).Sum(c => c.Offset == Offset.Unset ? 0 : c.Offset.Value);
    }
}
