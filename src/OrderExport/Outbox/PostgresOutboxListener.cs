using Microsoft.Extensions.Options;
using Npgsql;
using OrderExport.Hosting;
using OrderExport.Persistence;

namespace OrderExport.Outbox;

/// <summary>
/// Turns PostgreSQL NOTIFY 'orderexport_outbox' (sent by a trigger when outbox rows commit, in
/// any instance) into the in-process <see cref="OutboxSignal"/>. Polling stays as the fallback
/// while this connection is down.
/// </summary>
internal sealed partial class PostgresOutboxListener(
    IOptions<DatabaseOptions> database,
    IOptions<OutboxOptions> outbox,
    OutboxSignal signal,
    TimeProvider time,
    ILogger<PostgresOutboxListener> logger) : BackgroundService
{
    public const string Channel = "orderexport_outbox";

    private static readonly TimeSpan WaitSlice = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Value.Provider != DatabaseProvider.Postgres || !outbox.Value.ListenForNotifications || !outbox.Value.RelayEnabled)
        {
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A connection of its own, outside the pool, and never handed the stopping token:
                // after a database outage Npgsql 10.0.0 may tie a cancellation registration to a
                // connector it already cleaned up (npgsql#6415, #6568), so cancelling it threw
                // ObjectDisposedException out of the host's stop, or did not stop the wait.
                var unpooled = new NpgsqlConnectionStringBuilder(database.Value.ConnectionString) { Pooling = false }.ConnectionString;
                await using var connection = new NpgsqlConnection(unpooled);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, _) => signal.Notify();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                failures = 0;
                // Rows may have committed while we were not listening.
                signal.Notify();
                while (!stoppingToken.IsCancellationRequested)
                {
                    // Short slices instead of cancellation: see above.
                    await connection.WaitAsync(WaitSlice);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                var delay = Backoff.Exponential(failures, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
                LogListenFailed(ex, delay);
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox LISTEN connection failed; relay falls back to polling, reconnecting in {RetryDelay}")]
    private partial void LogListenFailed(Exception exception, TimeSpan retryDelay);
}
