using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Outbox;
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
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<ConsumerOptions> consumerOptions,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<ExportConsumer> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        consumerOptions.Value.Enabled
            // Consume() blocks: the loop keeps a thread of its own, never a pool thread. It stays
            // on it because Run waits for each record synchronously (there is no
            // synchronization context to deadlock on).
            ? Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.CompletedTask;

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
        config.MaxPollIntervalMs = settings.MaxPollIntervalMs;
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;

        using var consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => LogAssigned(string.Join(", ", partitions.Select(p => p.Partition.Value))))
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                // Hand over what we handled; the next owner starts right after it.
                TryCommit(c);
                foreach (var partition in partitions)
                {
                    metrics.ForgetLag(partition.Partition.Value);
                }

                LogRevoked(string.Join(", ", partitions.Select(p => p.Partition.Value)));
            })
            .SetErrorHandler((_, error) => LogKafkaError(error.Code, error.Reason, error.IsFatal))
            .Build();

        consumer.Subscribe(kafka.Topic);
        LogStarted(kafka.Topic, kafka.ConsumerGroup);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? result;
                try
                {
                    result = consumer.Consume(stoppingToken);
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

                HandleUntilDoneAsync(IncomingRecord.From(result), stoppingToken).GetAwaiter().GetResult();
                try
                {
                    consumer.StoreOffset(result);
                }
                catch (KafkaException ex)
                {
                    // The partition was taken from us meanwhile: its next owner gets the record
                    // again, and the inbox makes that a duplicate skip.
                    LogKafkaError(ex.Error.Code, ex.Error.Reason, ex.Error.IsFatal);
                    continue;
                }

                // The high watermark comes from the last fetch: no broker round trip.
                var watermarks = consumer.GetWatermarkOffsets(result.TopicPartition);
                if (watermarks.High != Offset.Unset)
                {
                    metrics.SetLag(result.Partition.Value, watermarks.High.Value - (result.Offset.Value + 1));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the record in hand (if any) was not stored and will be redelivered.
        }
        finally
        {
            // Commits the stored offsets and leaves the group, so partitions move on at once.
            consumer.Close();
            LogStopped();
        }
    }

    private async Task HandleUntilDoneAsync(IncomingRecord record, CancellationToken stoppingToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                await handler.HandleAsync(record, stoppingToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                var delay = Backoff.Exponential(failures, TimeSpan.FromMilliseconds(200), consumerOptions.Value.InfrastructureRetryMaxDelay);
                LogHandleFailed(ex, record.Topic, record.Partition, record.Offset, record.KeyText, record.Header(MessageHeaders.EventId), delay);
                metrics.Handled(ExportHandler.Outcomes.Retried);
                await Task.Delay(delay, time, stoppingToken);
            }
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

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Handling {Topic}[{Partition}]@{Offset} (order {OrderId} event {EventId}) failed; retrying the same record in {RetryDelay}")]
    private partial void LogHandleFailed(Exception exception, string topic, int partition, long offset, string orderId, string? eventId, TimeSpan retryDelay);
}
