using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// The hosted consumer of <c>order-export</c> (group <c>order-export-consumer</c>): its poll loop.
/// Each assigned partition's records go to a <see cref="PartitionWork"/>, which handles different
/// orders side by side and one order's records in sequence (<see cref="RecordHandling"/>), and
/// stores the lowest offset not finished. At-least-once: only stored offsets are committed (in the
/// background, on rebalance and on close); redeliveries after a crash are absorbed by the inbox,
/// so each event is exported once.
/// </summary>
public sealed partial class ExportConsumer(
    KafkaConnection connection,
    RecordHandling handling,
    PriorChecks checks,
    ConsumerProgress progress,
    DatabaseSchema schema,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<ConsumerOptions> consumerOptions,
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
        var config = settings.Apply(connection.ConsumerConfig(kafka.ConsumerGroup));

        // Cancelled when the host stops or a partition's work fails unexpectedly (the loop then rethrows it).
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var failures = new ConcurrentQueue<ExceptionDispatchInfo>();
        IConsumer<byte[], byte[]>? built = null;
        var partitions = new AssignedPartitions(progress, settings.QueuePerPartition, (partition, partitionProgress) =>
            new PartitionWork(partition, partitionProgress, settings.QueuePerPartition, settings.MaxInFlightPerPartition,
                checks.CheckAsync,
                (record, check, abandon) => handling.UntilDoneAsync(IncomingRecord.From(record), check, partitionProgress, abandon),
                offset => TryStore(built!, offset),
                ex =>
                {
                    // The poll loop rethrows it: a consumer that cannot handle records must not look alive.
                    failures.Enqueue(ExceptionDispatchInfo.Capture(ex));
                    running.Cancel();
                },
                running.Token, stoppingToken), logger);

        using var consumer = built = new ConsumerBuilder<byte[], byte[]>(config)
            .SetPartitionsAssignedHandler((_, assigned) =>
            {
                foreach (var partition in assigned)
                {
                    progress.Assigned(partition.Partition.Value);
                }

                LogAssigned(string.Join(", ", assigned.Select(p => p.Partition.Value)));
            })
            .SetPartitionsRevokedHandler((c, revokedOffsets) =>
            {
                var revoked = revokedOffsets.Select(p => p.TopicPartition).ToList();
                partitions.Stop(c, revoked, RevokeGrace);
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
                    partitions.ObserveEnds(consumer);
                    observedAt = time.GetTimestamp();
                }

                partitions.ResumeWhereRoom(consumer);
                ConsumeResult<byte[], byte[]>? result;
                try
                {
                    // While a record is held, come back soon to offer it again; else often enough to
                    // see the partitions' ends and the host's stop (Consume(token) polls the same way).
                    result = consumer.Consume(partitions.AnyHeld ? HeldRecordRetry : PollTimeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    LogKafkaError(ex.Error.Code, ex.Error.Reason, false);
                    continue;
                }

                if (result?.Message is not null && !result.IsPartitionEOF)
                {
                    partitions.Offer(consumer, result);
                }
            }
        }
        finally
        {
            running.Cancel();
            // Stopping, failed or fatal: nothing in hand is finished first (it was not stored).
            partitions.StopAll(consumer);
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

    /// <summary>
    /// How long a revoked partition's worker may go on with the record in hand. The rebalance waits
    /// for it (and this instance polls nothing meanwhile), so a record stuck in platform retries or
    /// a database outage is abandoned instead: unstored, its next owner handles it again, and the
    /// inbox or the platform's Idempotency-Key absorbs a call that had already gone out.
    /// </summary>
    private static readonly TimeSpan RevokeGrace = TimeSpan.FromSeconds(5);

    private void TryStore(IConsumer<byte[], byte[]> consumer, TopicPartitionOffset offset)
    {
        try
        {
            consumer.StoreOffset(offset);
        }
        catch (KafkaException ex)
        {
            // The partition was taken from us meanwhile: its next owner gets the records again,
            // and the inbox makes them duplicate skips.
            LogKafkaError(ex.Error.Code, ex.Error.Reason, ex.Error.IsFatal);
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
}
