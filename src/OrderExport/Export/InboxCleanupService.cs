using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>
/// Deletes inbox rows of exported events older than <see cref="ConsumerOptions.InboxRetention"/>,
/// in small batches. Past that age no copy of the event can arrive any more (it must exceed the
/// retention of <c>order-export</c>), so the row no longer guards against anything. Rows of
/// dead-lettered events stay: a replay or a redelivery still needs to know about them.
/// </summary>
internal sealed partial class InboxCleanupService(
    IServiceScopeFactory scopes,
    IOptions<ConsumerOptions> options,
    TimeProvider time,
    ILogger<InboxCleanupService> logger) : BackgroundService
{
    private const int DeleteBatch = 5_000;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(options.Value.InboxCleanupInterval, time, async ct =>
        {
            var deleted = await CleanupAsync(ct);
            if (deleted > 0)
            {
                LogCleaned(deleted);
            }
        }, LogCleanupFailed, stoppingToken);

    internal async Task<int> CleanupAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - options.Value.InboxRetention;
        var total = 0;
        int deleted;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            deleted = await scope.ServiceProvider.GetRequiredService<OrderExportDbContext>().InboxMessages
                .Where(m => m.Outcome == InboxOutcome.Exported && m.HandledAtUtc < cutoff)
                .OrderBy(m => m.HandledAtUtc)
                .Take(DeleteBatch)
                .ExecuteDeleteAsync(cancellationToken);
            total += deleted;
        }
        while (deleted == DeleteBatch);
        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Deleted} inbox rows of exported events past retention")]
    private partial void LogCleaned(int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox clean-up failed; trying again next interval")]
    private partial void LogCleanupFailed(Exception exception);
}
