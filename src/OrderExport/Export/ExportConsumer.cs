using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Outbox;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// The hosted consumer of <c>order-export</c> (group <c>order-export-consumer</c>). At-least-once:
/// a record's offset is stored only after <see cref="ExportHandler"/> handled it, and only stored
/// offsets are committed (in the background, on rebalance and on close). If handling fails for
/// infrastructure reasons, the same record is retried with backoff, never skipped. Redeliveries
/// after a crash are absorbed by the inbox, so each event is exported once.
/// </summary>
public sealed partial class ExportConsumer(
    KafkaConnection connection,
    ExportHandler handler,
    EventExporter exporter,
    ConsumerProgress progress,
    DatabaseSchema schema,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<ConsumerOptions> consumerOptions,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<ExportConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Started without a reachable database, the service migrates later: no record before that.
        await schema.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (consumerOptions.Value.Enabled && !stoppingToken.IsCancellationRequested)
        {
            // Consume() blocks: the poll loop keeps a thread of its own, never a pool thread. The
            // records are handled on the pool by one worker per partition (see Run).
            await Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    private void Run(CancellationToken stoppingToken)
    {
        var kafka = kafkaOptions.Value;
        var settings = consumerOptions.Value;
        var config = connection.ConsumerConfig(kafka.ConsumerGroup);
        config.EnableAutoCommit = true;
        config.AutoCommitIntervalMs = settings.AutoCommitIntervalMs;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        config.SessionTimeoutMs = settings.SessionTimeoutMs;
        // Kafka's advice (at most a third of the session): a member learns of a rebalance sooner.
        config.HeartbeatIntervalMs = Math.Min(3000, settings.SessionTimeoutMs / 3);
        config.MaxPollIntervalMs = settings.MaxPollIntervalMs;
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;

        // Cancelled when the host stops or a worker fails unexpectedly (the loop then rethrows it).
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var failures = new ConcurrentQueue<ExceptionDispatchInfo>();
        var workers = new Dictionary<TopicPartition, PartitionWorker>();
        // A record whose partition's queue was full: its partition is paused until it fits.
        var held = new Dictionary<TopicPartition, ConsumeResult<byte[], byte[]>>();

        using var consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                foreach (var partition in partitions)
                {
                    progress.Assigned(partition.Partition.Value);
                }

                LogAssigned(string.Join(", ", partitions.Select(p => p.Partition.Value)));
            })
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                var revoked = partitions.Select(p => p.TopicPartition).ToList();
                foreach (var partition in revoked.Where(held.Remove))
                {
                    c.Resume([partition]);
                }

                // Each worker gets a moment to finish the record in hand and store its offset; what
                // it had queued was not stored, so the next owner starts right there.
                StopWorkers(workers, revoked, RevokeGrace);
                // Hand over what we handled; the next owner starts right after it.
                TryCommit(c);
                foreach (var partition in revoked)
                {
                    progress.Revoked(partition.Partition.Value);
                }

                LogRevoked(string.Join(", ", revoked.Select(p => p.Partition.Value)));
            })
            .SetErrorHandler((_, error) => LogKafkaError(error.Code, error.Reason, error.IsFatal))
            .Build();

        consumer.Subscribe(kafka.Topic);
        LogStarted(kafka.Topic, kafka.ConsumerGroup);
        var observedAt = time.GetTimestamp();
        try
        {
            while (!running.IsCancellationRequested)
            {
                if (time.GetElapsedTime(observedAt) >= ObserveInterval)
                {
                    ObservePartitions(consumer);
                    observedAt = time.GetTimestamp();
                }

                foreach (var (partition, waiting) in held.ToList())
                {
                    // Resume at half full, not at the first free slot: each pause drops what the
                    // client had fetched ahead for the partition, and each resume fetches anew
                    // (pausing per record halved the consumer's rate in the benchmark).
                    var queue = workers[partition].Queue;
                    if (queue.Reader.Count <= settings.QueuePerPartition / 2 && queue.Writer.TryWrite(waiting))
                    {
                        held.Remove(partition);
                        consumer.Resume([partition]);
                    }
                }

                ConsumeResult<byte[], byte[]>? result;
                try
                {
                    // While a record is held, come back soon to offer it again; else often enough to
                    // see the partitions' ends and the host's stop (Consume(token) polls the same way).
                    result = consumer.Consume(held.Count == 0 ? PollTimeout : HeldRecordRetry);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    LogKafkaError(ex.Error.Code, ex.Error.Reason, false);
                    continue;
                }

                if (result?.Message is null || result.IsPartitionEOF)
                {
                    continue;
                }

                if (held.ContainsKey(result.TopicPartition))
                {
                    // Fetched before the pause took hold (librdkafka should not hand it out): read it
                    // again after the held record, rather than queue it ahead of that one.
                    consumer.Seek(result.TopicPartitionOffset);
                    continue;
                }

                if (!workers.TryGetValue(result.TopicPartition, out var worker))
                {
                    worker = StartWorker(consumer, progress.For(result.Partition.Value), settings.QueuePerPartition, running, failures, stoppingToken);
                    workers[result.TopicPartition] = worker;
                }

                // Before the worker can see it, so a finish never comes before its fetch.
                worker.Progress.Fetched(result.Offset.Value, result.Message.Key);
                if (!worker.Queue.Writer.TryWrite(result))
                {
                    // The worker is that far behind (a platform outage, say). Pausing only its
                    // partition keeps the others flowing and this loop polling, so the group
                    // does not take the partitions away while the record in hand is retried.
                    held[result.TopicPartition] = result;
                    consumer.Pause([result.TopicPartition]);
                }
            }
        }
        catch (OperationCanceledException) when (running.IsCancellationRequested)
        {
            // Shutting down (or a worker failed, see below): records not stored are redelivered.
        }
        finally
        {
            running.Cancel();
            // Stopping, failed or fatal: nothing in hand is finished first (it was not stored).
            StopWorkers(workers, workers.Keys.ToList(), TimeSpan.Zero);
            // Commits the stored offsets and leaves the group, so partitions move on at once.
            consumer.Close();
            LogStopped();
            if (!stoppingToken.IsCancellationRequested && failures.TryPeek(out var failure))
            {
                failure.Throw();
            }
        }
    }

    private static readonly TimeSpan HeldRecordRetry = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the poll loop reads the partitions' ends for the lag.</summary>
    private static readonly TimeSpan ObserveInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan CommittedTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The partitions' ends as of the last fetch (no broker round trip), and, for a partition that
    /// fetched nothing yet (caught up at its assignment), the group's committed offset, asked once.
    /// </summary>
    private void ObservePartitions(IConsumer<byte[], byte[]> consumer)
    {
        var assigned = consumer.Assignment;
        var committed = new Dictionary<TopicPartition, long>();
        var unknown = assigned.Where(p => progress.For(p.Partition.Value).NeedsCommitted).ToList();
        if (unknown.Count > 0)
        {
            try
            {
                foreach (var offset in consumer.Committed(unknown, CommittedTimeout))
                {
                    committed[offset.TopicPartition] = offset.Offset.Value;
                }
            }
            catch (KafkaException ex)
            {
                // Asked again on the next round; the lag stays unknown meanwhile.
                LogKafkaError(ex.Error.Code, ex.Error.Reason, ex.Error.IsFatal);
            }
        }

        foreach (var partition in assigned)
        {
            progress.For(partition.Partition.Value).Observe(
                consumer.GetWatermarkOffsets(partition).High.Value, committed.GetValueOrDefault(partition, Offset.Unset.Value));
        }
    }

    /// <summary>
    /// How long a revoked partition's worker may go on with the record in hand. The rebalance waits
    /// for it (and this instance polls nothing meanwhile), so a record stuck in platform retries or
    /// a database outage is abandoned instead: unstored, its next owner handles it again, and the
    /// inbox or the platform's Idempotency-Key absorbs a call that had already gone out.
    /// </summary>
    private static readonly TimeSpan RevokeGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The records of one partition, handled strictly in offset order (so every order's events keep
    /// their order) beside the other partitions' workers. Only this worker stores the partition's
    /// offsets, each after its record was handled. <see cref="Revoked"/> stops it taking the next
    /// record; <see cref="Abandon"/> (cancelled with the host, or after a grace) ends the record in hand.
    /// </summary>
    private sealed record PartitionWorker(
        Channel<ConsumeResult<byte[], byte[]>> Queue, PartitionProgress Progress, CancellationTokenSource Revoked, CancellationTokenSource Abandon, Task Work);

    private PartitionWorker StartWorker(IConsumer<byte[], byte[]> consumer, PartitionProgress partitionProgress, int capacity, CancellationTokenSource running,
        ConcurrentQueue<ExceptionDispatchInfo> failures, CancellationToken stoppingToken)
    {
        var queue = Channel.CreateBounded<ConsumeResult<byte[], byte[]>>(
            new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        var revoked = CancellationTokenSource.CreateLinkedTokenSource(running.Token);
        var abandon = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var work = Task.Run(async () =>
        {
            try
            {
                await WorkAsync(consumer, partitionProgress, queue.Reader, revoked.Token, abandon.Token);
            }
            catch (OperationCanceledException) when (revoked.IsCancellationRequested)
            {
                // Revoked or stopping: what was not stored goes to the next owner.
            }
            catch (Exception ex)
            {
                // The poll loop rethrows it: a consumer that cannot handle records must not look alive.
                failures.Enqueue(ExceptionDispatchInfo.Capture(ex));
                running.Cancel();
            }
        }, CancellationToken.None);
        return new PartitionWorker(queue, partitionProgress, revoked, abandon, work);
    }

    private static void StopWorkers(Dictionary<TopicPartition, PartitionWorker> workers, IReadOnlyCollection<TopicPartition> partitions, TimeSpan grace)
    {
        var stopping = new List<PartitionWorker>();
        foreach (var partition in partitions)
        {
            if (workers.Remove(partition, out var worker))
            {
                worker.Revoked.Cancel();
                worker.Queue.Writer.TryComplete();
                worker.Abandon.CancelAfter(grace);
                stopping.Add(worker);
            }
        }

        foreach (var worker in stopping)
        {
            // The worker never throws (see StartWorker); this only waits for it.
            ((IAsyncResult)worker.Work).AsyncWaitHandle.WaitOne();
            worker.Revoked.Dispose();
            worker.Abandon.Dispose();
        }
    }

    private async Task WorkAsync(IConsumer<byte[], byte[]> consumer, PartitionProgress partitionProgress,
        ChannelReader<ConsumeResult<byte[], byte[]>> queue, CancellationToken revoked, CancellationToken abandon)
    {
        while (await queue.WaitToReadAsync(revoked))
        {
            while (!revoked.IsCancellationRequested && queue.TryRead(out var result))
            {
                // Not the revocation token: a record started gets its grace to finish and be stored.
                await HandleUntilDoneAsync(IncomingRecord.From(result), partitionProgress, abandon);
                partitionProgress.Finished(result.Offset.Value);
                try
                {
                    consumer.StoreOffset(result);
                }
                catch (KafkaException ex)
                {
                    // The partition was taken from us meanwhile: its next owner gets the record
                    // again, and the inbox makes that a duplicate skip.
                    LogKafkaError(ex.Error.Code, ex.Error.Reason, ex.Error.IsFatal);
                }
            }
        }
    }

    /// <summary>
    /// Retries the record on infrastructure failures until it is handled or <paramref name="abandon"/>
    /// fires; any other failure only <see cref="ConsumerOptions.MaxHandlingFailures"/> times, then the
    /// record is dead-lettered with the failure as its reason (<see cref="InfrastructureFailure"/>).
    /// </summary>
    private async Task HandleUntilDoneAsync(IncomingRecord record, PartitionProgress partitionProgress, CancellationToken abandon)
    {
        // Only failures that are not the infrastructure's count towards the bound.
        var recordFailures = 0;
        for (var failures = 1; ; failures++)
        {
            try
            {
                await handler.HandleAsync(record, abandon);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !abandon.IsCancellationRequested)
            {
                if (!InfrastructureFailure.Is(ex) && ++recordFailures >= consumerOptions.Value.MaxHandlingFailures)
                {
                    LogGivingUp(ex, record.Topic, record.Partition, record.Offset, record.KeyText, record.Header(MessageHeaders.EventId), recordFailures);
                    // The header names the event when it reads; the dead letter takes its order from the
                    // key (DeadLetterUnreadableAsync), so the order's later events wait behind it.
                    // If even this fails, the database or broker is what fails: the loop goes on.
                    var unreadable = new UnreadableRecord(ex.GetType().Name, $"handling failed {recordFailures} times: {ex.Message}",
                        Guid.TryParse(record.Header(MessageHeaders.EventId), out var eventId) ? eventId : null);
                    if (await TryDeadLetterAsync(record, unreadable, abandon))
                    {
                        metrics.Handled(ExportHandler.Outcomes.DeadLettered);
                        return;
                    }
                }

                var delay = Backoff.Exponential(failures, TimeSpan.FromMilliseconds(200), consumerOptions.Value.InfrastructureRetryMaxDelay);
                LogHandleFailed(ex, record.Topic, record.Partition, record.Offset, record.KeyText, record.Header(MessageHeaders.EventId), delay);
                metrics.Handled(ExportHandler.Outcomes.Retried);
                metrics.ConsumerRetried(record.Partition, InfrastructureFailure.Is(ex));
                partitionProgress.Failed(ex);
                await Task.Delay(delay, time, abandon);
            }
        }
    }

    private async Task<bool> TryDeadLetterAsync(IncomingRecord record, UnreadableRecord unreadable, CancellationToken abandon)
    {
        try
        {
            await exporter.DeadLetterUnreadableAsync(record, unreadable, abandon);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !abandon.IsCancellationRequested)
        {
            LogHandleFailed(ex, record.Topic, record.Partition, record.Offset, record.KeyText, record.Header(MessageHeaders.EventId), TimeSpan.Zero);
            return false;
        }
    }

    private void TryCommit(IConsumer<byte[], byte[]> consumer)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
        }
        catch (KafkaException ex)
        {
            LogKafkaError(ex.Error.Code, ex.Error.Reason, ex.Error.IsFatal);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Export consumer subscribed to {Topic} as group {ConsumerGroup}")]
    private partial void LogStarted(string topic, string consumerGroup);

    [LoggerMessage(Level = LogLevel.Information, Message = "Export consumer stopped")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions assigned: {Partitions}")]
    private partial void LogAssigned(string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}")]
    private partial void LogRevoked(string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consumer error {KafkaErrorCode}: {KafkaReason} (fatal: {IsFatal})")]
    private partial void LogKafkaError(ErrorCode kafkaErrorCode, string kafkaReason, bool isFatal);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Handling {Topic}[{Partition}]@{Offset} (order {OrderId} event {EventId}) failed {Failures} times, not for an infrastructure reason; dead-lettering it")]
    private partial void LogGivingUp(Exception exception, string topic, int partition, long offset, string orderId, string? eventId, int failures);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Handling {Topic}[{Partition}]@{Offset} (order {OrderId} event {EventId}) failed; retrying the same record in {RetryDelay}")]
    private partial void LogHandleFailed(Exception exception, string topic, int partition, long offset, string orderId, string? eventId, TimeSpan retryDelay);
}
