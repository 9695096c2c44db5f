using System.ComponentModel.DataAnnotations;

namespace OrderExport.Export;

/// <summary>
/// Section "Consumer":
/// <code>
/// "Consumer": {
///   "Enabled": true,
///   "QueuePerPartition": 1000,        // records fetched ahead per partition; partitions are handled side by side
///   "MaxInFlightPerPartition": 16,    // orders of one partition exported side by side (one order's events: always one at a time)
///   "BookkeepingBatchSize": 100,      // exported events whose inbox rows and order status share one transaction, at most
///   "AutoCommitIntervalMs": 1000,     // stored (= handled) offsets are committed this often
///   "SessionTimeoutMs": 45000,
///   "MaxPollIntervalMs": 300000,      // the platform retry budget must fit well inside this
///   "DeliveryRounds": 3,              // platform retry budgets spent on one message before it is dead-lettered
///   "RoundDelay": "00:00:01",         // pause between rounds, and while the circuit breaker is open
///   "MaxCircuitWait": "00:02:00",     // how long one event waits on an open circuit before it is dead-lettered
///   "InfrastructureRetryMaxDelay": "00:00:30",
///   "MaxHandlingFailures": 5,         // failures that are not the database's, broker's or network's, before a record is dead-lettered
///   "InboxRetention": "30.00:00:00",  // inbox rows of exported events are kept this long: well past order-export's retention
///   "InboxCleanupInterval": "00:10:00"
/// }
/// </code>
/// </summary>
public sealed class ConsumerOptions
{
    public const string Section = "Consumer";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Records taken from one partition ahead of its worker. Each partition is handled by its own
    /// worker, in offset order; a partition whose queue is full is paused until it is half empty.
    /// </summary>
    [Range(1, 10_000)]
    public int QueuePerPartition { get; set; } = 1000;

    /// <summary>
    /// Records of one partition handled at once, each of a different key (order): one order's
    /// records always run one after another. A crash, revocation or database outage repeats at most
    /// this many platform calls per partition (each absorbed by the platform's Idempotency-Key), and
    /// finished records above an unfinished one are re-delivered (absorbed by the inbox). 1 handles
    /// the partition strictly in offset order, at less than a third of the default's throughput
    /// (docs/benchmarks.md). 16, the default (as Confluent's Parallel Consumer's maxConcurrency),
    /// lets the group-committed bookkeeping fill its batches, and keeps a platform that takes tens of
    /// milliseconds per call busy: an instance exports at most partitions × this per call latency.
    /// </summary>
    [Range(1, 256)]
    public int MaxInFlightPerPartition { get; set; } = DefaultMaxInFlightPerPartition;

    public const int DefaultMaxInFlightPerPartition = 16;

    /// <summary>
    /// At most this many exported events have their inbox rows and order status written in one
    /// transaction (<see cref="ExportBookkeeping"/>): those that finished while the previous one
    /// ran. Nothing waits for company. 1 writes each event in its own transaction.
    /// </summary>
    [Range(1, 1_000)]
    public int BookkeepingBatchSize { get; set; } = 100;

    [Range(10, 60_000)]
    public int AutoCommitIntervalMs { get; set; } = 1000;

    [Range(6_000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 45_000;

    [Range(10_000, 3_600_000)]
    public int MaxPollIntervalMs { get; set; } = 300_000;

    [Range(1, 100)]
    public int DeliveryRounds { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RoundDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxCircuitWait { get; set; } = TimeSpan.FromMinutes(2);

    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InfrastructureRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a record may fail for a reason other than infrastructure (see
    /// <see cref="InfrastructureFailure"/>) before it is dead-lettered; infrastructure failures are
    /// retried without limit, since they pass and the record is not at fault.
    /// </summary>
    [Range(1, 100)]
    public int MaxHandlingFailures { get; set; } = 5;

    /// <summary>
    /// How long the inbox remembers an exported event: longer than a record can stay on
    /// <c>order-export</c>, or a copy read after a consumer-group reset could be exported again.
    /// Kafka deletes whole segments, so with its defaults (7-day retention, 7-day segments) a
    /// record may live about 14 days; 30 leaves a margin. Shorter only with a shorter topic retention.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan InboxRetention { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan InboxCleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The export consumer's settings on top of the connection's: offsets stored by the partition
    /// work only (<see cref="PartitionWork"/>), committed in the background; cooperative rebalances.
    /// </summary>
    internal Confluent.Kafka.ConsumerConfig Apply(Confluent.Kafka.ConsumerConfig config)
    {
        config.EnableAutoCommit = true;
        config.AutoCommitIntervalMs = AutoCommitIntervalMs;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest;
        config.SessionTimeoutMs = SessionTimeoutMs;
        // Kafka's advice (at most a third of the session): a member learns of a rebalance sooner.
        config.HeartbeatIntervalMs = Math.Min(3000, SessionTimeoutMs / 3);
        config.MaxPollIntervalMs = MaxPollIntervalMs;
        config.PartitionAssignmentStrategy = Confluent.Kafka.PartitionAssignmentStrategy.CooperativeSticky;
        return config;
    }
}
