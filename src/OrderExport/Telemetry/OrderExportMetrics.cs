using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrderExport.Telemetry;

/// <summary>
/// The service's metrics (meter <c>OrderExport</c>, created through <see cref="IMeterFactory"/> so each
/// host has its own). Counters are incremented where things happen; gauges read snapshots kept
/// by <see cref="OutboxMonitor"/>, the consumer and the platform pipeline.
/// </summary>
public sealed class OrderExportMetrics
{
    public const string MeterName = "OrderExport";

    private readonly Counter<long> _outboxPublished;
    private readonly Counter<long> _outboxPublishFailures;
    private readonly Counter<long> _consumerHandled;
    private readonly Histogram<double> _exportLatency;
    private readonly Counter<long> _platformAttempts;
    private readonly Counter<long> _consumerRetries;
    private readonly Histogram<int> _bookkeepingBatch;

    public OrderExportMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _outboxPublished = meter.CreateCounter<long>("orderexport.outbox.published", "{event}", "Outbox events acknowledged by the broker");
        _outboxPublishFailures = meter.CreateCounter<long>("orderexport.outbox.publish_failures", "{event}", "Outbox events the broker did not acknowledge (retried later)");
        meter.CreateObservableGauge("orderexport.outbox.pending", () => OutboxPending, "{event}", "Unpublished outbox rows");
        meter.CreateObservableGauge("orderexport.outbox.oldest_pending_age", () => OutboxOldestPendingAge.TotalSeconds, "s", "Age of the oldest unpublished outbox row");
        _consumerHandled = meter.CreateCounter<long>("orderexport.consumer.handled", "{message}", "Records handled by the export consumer, per outcome");
        _consumerRetries = meter.CreateCounter<long>("orderexport.consumer.retries", "{record}",
            "Records the consumer handles again after a failure, per partition and cause (infrastructure: database, broker, network; record: anything else)");
        meter.CreateObservableGauge("orderexport.consumer.lag", () => ObservePartitions<long>(p => p.Lag), "{message}",
            "Records behind the partition's end (high watermark - next offset to finish), per assigned partition");
        meter.CreateObservableGauge("orderexport.consumer.oldest_unfinished_age", () => ObservePartitions<double>(p => p.OldestUnfinishedAge.TotalSeconds), "s",
            "Age of the oldest record fetched and not finished, per assigned partition (0 when none)");
        meter.CreateObservableGauge("orderexport.consumer.time_since_progress", () => ObservePartitions<double>(p => p.SinceProgress.TotalSeconds), "s",
            "Time since the partition last finished a record while it had work, per assigned partition (0 when idle)");
        _bookkeepingBatch = meter.CreateHistogram<int>("orderexport.consumer.bookkeeping_batch", "{event}",
            "Exported events whose inbox rows and order status went to the database in one transaction",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _exportLatency = meter.CreateHistogram<double>("orderexport.export.latency", "s", "From the event's commit to the platform's acceptance",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _platformAttempts = meter.CreateCounter<long>("orderexport.platform.attempts", "{request}", "Platform HTTP attempts, per status");
        meter.CreateObservableGauge("orderexport.platform.circuit_state", () => (int)CircuitState(), "{state}",
            "Platform circuit breaker: 0 closed, 1 open, 2 half-open, 3 isolated");
    }

    public long OutboxPending { get; set; }

    public TimeSpan OutboxOldestPendingAge { get; set; }

    /// <summary>Set by the platform pipeline; reads the breaker's live state.</summary>
    public Func<Polly.CircuitBreaker.CircuitState> CircuitState { get; set; } = () => Polly.CircuitBreaker.CircuitState.Closed;

    public void OutboxPublished(int count) => _outboxPublished.Add(count);

    public void OutboxPublishFailed(int count) => _outboxPublishFailures.Add(count);

    /// <summary>Outcomes: exported, duplicate, parked, dead_lettered, retried, replayed.</summary>
    public void Handled(string outcome)
    {
        _consumerHandled.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome is Export.RecordRouter.Outcomes.Exported or Export.RecordRouter.Outcomes.Replayed)
        {
            Interlocked.Increment(ref _exportedTotal);
        }
    }

    private long _exportedTotal;
    private long _confirmedTotal;

    /// <summary>Records this instance exported (or exported on replay) since it started: the operations page's rate chart.</summary>
    public long ExportedTotal => Interlocked.Read(ref _exportedTotal);

    /// <summary>Orders this instance confirmed since it started: the operations page's rate chart.</summary>
    public long ConfirmedTotal => Interlocked.Read(ref _confirmedTotal);

    public void OrderConfirmed() => Interlocked.Increment(ref _confirmedTotal);

    /// <summary>Set by the operations page's attempt log: each platform HTTP attempt with what it was for, its status and duration.</summary>
    public Action<PlatformAttemptRecord>? PlatformAttemptObserved { get; set; }

    public void Exported(DateTime committedAtUtc, DateTime nowUtc) => _exportLatency.Record(Math.Max(0, (nowUtc - committedAtUtc).TotalSeconds));

    /// <summary>One group commit of the consumer's bookkeeping, of <paramref name="events"/> exported events.</summary>
    public void BookkeepingBatch(int events) => _bookkeepingBatch.Record(events);

    /// <summary>status: the HTTP status code, or "timeout" / "error" when there was no answer.</summary>
    public void PlatformAttempt(string status) => _platformAttempts.Add(1, new KeyValuePair<string, object?>("status", status));

    /// <summary>Set by the consumer's progress: each assigned partition as it stands.</summary>
    public Func<IEnumerable<PartitionGauges>> ConsumerPartitions { get; set; } = () => [];

    /// <summary>A record failed and is handled again; <paramref name="infrastructure"/>: the database, broker or network failed.</summary>
    public void ConsumerRetried(int partition, bool infrastructure) => _consumerRetries.Add(1,
        new KeyValuePair<string, object?>("partition", partition), new KeyValuePair<string, object?>("cause", infrastructure ? "infrastructure" : "record"));

    private IEnumerable<Measurement<T>> ObservePartitions<T>(Func<PartitionGauges, T?> value)
        where T : struct =>
        from partition in ConsumerPartitions()
        let v = value(partition)
        where v.HasValue
        select new Measurement<T>(v.Value, new KeyValuePair<string, object?>("partition", partition.Partition));
}

/// <summary>One platform HTTP attempt: status is the HTTP status code, or "timeout" / "error" when there was no answer.</summary>
public readonly record struct PlatformAttemptRecord(
    Guid OrderId, Guid EventId, int Attempt, string Status, TimeSpan Duration, DateTimeOffset StartedAt, string? TraceId);

/// <summary>One assigned partition as the consumer sees it; <see cref="Lag"/> is null until known.</summary>
public readonly record struct PartitionGauges(int Partition, long? Lag, TimeSpan OldestUnfinishedAge, TimeSpan SinceProgress);
