using Microsoft.Extensions.Options;

namespace OrderExport.Outbox;

/// <summary>Deletes published outbox rows older than <see cref="OutboxOptions.Retention"/>, in small batches.</summary>
internal sealed partial class OutboxCleanupService(
    IServiceScopeFactory scopes,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxCleanupService> logger) : BackgroundService
{
    private const int DeleteBatch = 5_000;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(options.Value.CleanupInterval, time, async ct =>
        {
            var deleted = await CleanupAsync(ct);
            if (deleted > 0)
            {
                LogCleaned(deleted);
            }
        }, LogCleanupFailed, stoppingToken);

    internal async Task<int> CleanupAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - options.Value.Retention;
        var total = 0;
        int deleted;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            deleted = await scope.ServiceProvider.GetRequiredService<OutboxStore>().DeletePublishedAsync(cutoff, DeleteBatch, cancellationToken);
            total += deleted;
        }
        while (deleted == DeleteBatch);
        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Deleted} published outbox rows past retention")]
    private partial void LogCleaned(int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox clean-up failed; trying again next interval")]
    private partial void LogCleanupFailed(Exception exception);
}
