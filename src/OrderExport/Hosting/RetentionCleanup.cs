namespace OrderExport.Hosting;

/// <summary>
/// Housekeeping shared by the outbox and the inbox: every <see cref="Interval"/>, delete the rows
/// older than <see cref="Retention"/> in batches (one short statement each), until a batch comes
/// back short. A failed run is logged and the next interval tries again.
/// </summary>
internal abstract partial class RetentionCleanup(IServiceScopeFactory scopes, TimeProvider time, ILogger logger) : BackgroundService
{
    private const int DeleteBatch = 5_000;

    protected abstract TimeSpan Interval { get; }

    protected abstract TimeSpan Retention { get; }

    /// <summary>What is deleted, for the log ("published outbox rows").</summary>
    protected abstract string Rows { get; }

    /// <summary>Deletes at most <paramref name="limit"/> rows older than <paramref name="cutoffUtc"/>; returns how many.</summary>
    protected abstract Task<int> DeleteAsync(IServiceProvider services, DateTime cutoffUtc, int limit, CancellationToken cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(Interval, time, async ct =>
        {
            var deleted = await CleanupAsync(ct);
            if (deleted > 0)
            {
                LogCleaned(deleted, Rows);
            }
        }, ex => LogCleanupFailed(ex, Rows), stoppingToken);

    internal async Task<int> CleanupAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - Retention;
        var total = 0;
        int deleted;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            deleted = await DeleteAsync(scope.ServiceProvider, cutoff, DeleteBatch, cancellationToken);
            total += deleted;
        }
        while (deleted == DeleteBatch);
        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Deleted} {Rows} past retention")]
    private partial void LogCleaned(int deleted, string rows);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Clean-up of {Rows} failed; trying again next interval")]
    private partial void LogCleanupFailed(Exception exception, string rows);
}
