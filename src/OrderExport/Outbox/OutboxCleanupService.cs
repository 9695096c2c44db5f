using Microsoft.Extensions.Options;
using OrderExport.Hosting;

namespace OrderExport.Outbox;

/// <summary>Deletes published outbox rows older than <see cref="OutboxOptions.Retention"/>, in small batches.</summary>
internal sealed class OutboxCleanupService(
    IServiceScopeFactory scopes,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxCleanupService> logger) : RetentionCleanup(scopes, time, logger)
{
    protected override TimeSpan Interval => options.Value.CleanupInterval;

    protected override TimeSpan Retention => options.Value.Retention;

    protected override string Rows => "published outbox rows";

    protected override Task<int> DeleteAsync(IServiceProvider services, DateTime cutoffUtc, int limit, CancellationToken cancellationToken) =>
        services.GetRequiredService<OutboxStore>().DeletePublishedAsync(cutoffUtc, limit, cancellationToken);
}
