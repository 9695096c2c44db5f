using Microsoft.Extensions.Options;
using OrderExport.Hosting;
using OrderExport.Messaging;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Handles one record until it is done: retried on infrastructure failures until handled or
/// abandoned; any other failure only <see cref="ConsumerOptions.MaxHandlingFailures"/> times, then
/// the record is dead-lettered with the failure as its reason (<see cref="InfrastructureFailure"/>).
/// </summary>
public sealed partial class RecordHandling(
    RecordRouter router,
    PlatformExporter exporter,
    IOptions<ConsumerOptions> consumerOptions,
    OrderExportMetrics metrics,
    TimeProvider time,
    ILogger<RecordHandling> logger)
{
    /// <param name="check">The batch's check of the record (<see cref="PriorChecks"/>); it holds for the first try only.</param>
    internal async Task UntilDoneAsync(IncomingRecord record, PriorCheck? check, PartitionProgress progress, CancellationToken abandon)
    {
        progress.Started(record.Offset);
        // Only failures that are not the infrastructure's count towards the bound.
        var recordFailures = 0;
        for (var failures = 1; ; failures++)
        {
            try
            {
                await router.RouteAsync(record, failures == 1 ? check : null, abandon);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !abandon.IsCancellationRequested)
            {
                var infrastructure = InfrastructureFailure.Is(ex);
                if (!infrastructure && ++recordFailures >= consumerOptions.Value.MaxHandlingFailures)
                {
                    LogGivingUp(ex, record.Topic, record.Partition, record.Offset, record.KeyText, record.Header(MessageHeaders.EventId), recordFailures);
                    // The header names the event when it reads; the dead letter takes its order from the
                    // key (DeadLetterUnreadableAsync), so the order's later events wait behind it.
                    // If even this fails, the database or broker is what fails: the loop goes on.
                    var unreadable = new UnreadableRecord(ex.GetType().Name, $"handling failed {recordFailures} times: {ex.Message}",
                        Guid.TryParse(record.Header(MessageHeaders.EventId), out var eventId) ? eventId : null);
                    if (await TryDeadLetterAsync(record, unreadable, abandon))
                    {
                        metrics.Handled(RecordRouter.Outcomes.DeadLettered);
                        return;
                    }
                }

                var delay = Backoff.Exponential(failures, TimeSpan.FromMilliseconds(200), consumerOptions.Value.InfrastructureRetryMaxDelay);
                LogHandleFailed(ex, record.Topic, record.Partition, record.Offset, record.KeyText, record.Header(MessageHeaders.EventId), delay);
                metrics.Handled(RecordRouter.Outcomes.Retried);
                metrics.ConsumerRetried(record.Partition, infrastructure);
                progress.Failed(record.Offset, ex);
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

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Handling {Topic}[{Partition}]@{Offset} (order {OrderId} event {EventId}) failed {Failures} times, not for an infrastructure reason; dead-lettering it")]
    private partial void LogGivingUp(Exception exception, string topic, int partition, long offset, string orderId, string? eventId, int failures);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Handling {Topic}[{Partition}]@{Offset} (order {OrderId} event {EventId}) failed; retrying the same record in {RetryDelay}")]
    private partial void LogHandleFailed(Exception exception, string topic, int partition, long offset, string orderId, string? eventId, TimeSpan retryDelay);
}
