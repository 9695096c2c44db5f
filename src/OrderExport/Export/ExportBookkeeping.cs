using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Group commit of the consumer's bookkeeping for exported events: the inbox rows and the orders'
/// export status of every event that finished while the previous transaction ran go to the
/// database in one transaction (at most <see cref="ConsumerOptions.BookkeepingBatchSize"/> events;
/// nothing waits for company, so a lone event is written at once). A caller's task completes only
/// after the transaction holding its event has committed, so the consumer stores an offset only
/// then. If a batch fails while the database answers (an inbox row another instance wrote first,
/// an order that kept changing), each event is written alone, so one event's conflict fails only it.
/// </summary>
public sealed partial class ExportBookkeeping(
    IServiceScopeFactory scopes,
    IOptions<ConsumerOptions> options,
    OrderExportMetrics metrics,
    ILogger<ExportBookkeeping> logger) : BackgroundService
{
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>();

    private sealed record Entry(InboxMessage Inbox, int Sequence, TaskCompletionSource Committed);

    /// <summary>Events waiting for the next transaction (tests watch it).</summary>
    internal int Waiting => _queue.Reader.Count;

    /// <summary>Records an exported event; completes once the transaction that holds it has committed.</summary>
    public Task RecordExportedAsync(InboxMessage inbox, int sequence, CancellationToken cancellationToken)
    {
        var entry = new Entry(inbox, sequence, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(entry))
        {
            throw new OperationCanceledException("The bookkeeping writer has stopped.");
        }

        return entry.Committed.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Entry>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < options.Value.BookkeepingBatchSize && _queue.Reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                }

                await FlushAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is not written is not finished, so its offset is not stored either.
        }
        finally
        {
            _queue.Writer.TryComplete();
            foreach (var entry in batch)
            {
                entry.Committed.TrySetCanceled(stoppingToken);
            }

            while (_queue.Reader.TryRead(out var left))
            {
                left.Committed.TrySetCanceled(stoppingToken);
            }
        }
    }

    private async Task FlushAsync(List<Entry> batch, CancellationToken cancellationToken)
    {
        int written;
        try
        {
            written = await WriteAsync(batch, cancellationToken);
        }
        catch (Exception ex) when (batch.Count > 1 && !DatabaseUnavailable.Is(ex) && !cancellationToken.IsCancellationRequested)
        {
            // Not the database being away (a conflict, say): write each alone, so the cause fails only its own record.
            LogWritingAlone(ex, batch.Count);
            foreach (var entry in batch)
            {
                try
                {
                    metrics.BookkeepingBatch(await WriteAsync([entry], cancellationToken));
                    entry.Committed.TrySetResult();
                }
                catch (Exception alone)
                {
                    entry.Committed.TrySetException(alone);
                }
            }

            return;
        }
        catch (Exception ex)
        {
            // The database is what fails: every caller retries its own record, as before batching.
            batch.ForEach(e => e.Committed.TrySetException(ex));
            return;
        }

        batch.ForEach(e => e.Committed.TrySetResult());
        metrics.BookkeepingBatch(written);
    }

    private async Task<int> WriteAsync(IReadOnlyList<Entry> batch, CancellationToken cancellationToken)
    {
        // A record delivered twice (a revoke and re-assign while its bookkeeping waited) is one row.
        var events = batch.DistinctBy(e => e.Inbox.EventId).ToList();
        var orderIds = events.Select(e => e.Inbox.OrderId).Distinct().ToList();
        // An order changed meanwhile (a re-export request, say): the outcomes apply to its new state.
        await ConcurrencyRetry.SaveAsync(scopes, PlatformExporter.SaveAttempts, async db =>
        {
            var orders = await db.Orders.Where(o => orderIds.Contains(o.Id)).ToDictionaryAsync(o => o.Id, cancellationToken);
            foreach (var entry in events)
            {
                db.InboxMessages.Add(entry.Inbox);
                // No order here (a record written straight to the topic, say): nothing to record on.
                if (orders.TryGetValue(entry.Inbox.OrderId, out var order))
                {
                    order.RecordExportOutcome(entry.Sequence, ExportStatus.Exported);
                }
            }
        }, cancellationToken);
        return events.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing the bookkeeping of {Count} exported events in one transaction failed; writing each alone")]
    private partial void LogWritingAlone(Exception exception, int count);
}
