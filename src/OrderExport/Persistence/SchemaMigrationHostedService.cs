namespace OrderExport.Persistence;

/// <summary>
/// Migrates the schema in the host's "starting" phase: before any hosted service starts,
/// including the web server, so no request and no relay sees an old schema. A database that
/// cannot be reached does not stop the service: it starts, readiness says Unhealthy naming the
/// database, requests answer 503, and the migration is tried again in the background; the relay
/// and the consumer wait for it (<see cref="DatabaseSchema"/>). Any other failure (a bad script,
/// refused credentials) stops the start-up with its message.
/// </summary>
internal sealed partial class SchemaMigrationHostedService(
    SchemaMigrator migrator, DatabaseSchema schema, TimeProvider time, ILogger<SchemaMigrationHostedService> logger) : IHostedLifecycleService, IDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stopping = new();
    private Task _retrying = Task.CompletedTask;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await migrator.MigrateAsync(cancellationToken);
            schema.Migrated();
        }
        catch (Exception ex) when (DatabaseUnavailable.Is(ex) && !cancellationToken.IsCancellationRequested)
        {
            schema.Unreachable(ex);
            LogUnreachable(DatabaseUnavailable.Reason(ex));
            _retrying = RetryAsync(_stopping.Token);
        }
    }

    private async Task RetryAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            await Task.Delay(Hosting.Backoff.Exponential(attempt, TimeSpan.FromSeconds(1), MaxRetryDelay), time, stoppingToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await migrator.MigrateAsync(stoppingToken);
                schema.Migrated();
                LogMigratedLate(attempt);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Unreachable or not, the service already runs: keep saying why, and keep trying.
                schema.Unreachable(ex);
                LogStillFailing(ex, attempt);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _retrying.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "Database unreachable at start-up ({Reason}); the service runs, answers 503, and migrates the schema once it can")]
    private partial void LogUnreachable(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schema migration attempt {Attempt} failed; trying again")]
    private partial void LogStillFailing(Exception exception, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database reachable after {Attempt} retries: schema migrated, relay and consumer start")]
    private partial void LogMigratedLate(int attempt);
}
