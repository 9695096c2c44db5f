using Microsoft.Extensions.Options;
using OrderExport.Hosting;
using OrderExport.Outbox;
using OrderExport.Telemetry;

namespace OrderExport.Health;

/// <summary>
/// Samples the outbox backlog every <see cref="HealthOptions.SampleInterval"/> for the
/// <c>orderexport.outbox.pending</c> and <c>.oldest_pending_age</c> gauges, so a metrics scrape
/// never waits on the database.
/// </summary>
internal sealed partial class OutboxMonitor(
    IServiceScopeFactory scopes,
    OrderExportMetrics metrics,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILogger<OutboxMonitor> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicWork.RunAsync(options.Value.SampleInterval, time, SampleAsync, LogSampleFailed, stoppingToken);

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var (pending, oldest) = await scope.ServiceProvider.GetRequiredService<OutboxStore>().BacklogAsync(cancellationToken);
        metrics.OutboxPending = pending;
        metrics.OutboxOldestPendingAge = oldest is { } o ? time.GetUtcNow().UtcDateTime - o : TimeSpan.Zero;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sampling the outbox backlog failed; gauges keep their last values")]
    private partial void LogSampleFailed(Exception exception);
}
