using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OrderExport.Hosting;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>
/// Deletes inbox rows of exported events older than <see cref="ConsumerOptions.InboxRetention"/>,
/// in small batches. Past that age no copy of the event can arrive any more (it must exceed the
/// retention of <c>order-export</c>), so the row no longer guards against anything. Rows of
/// dead-lettered events stay: a replay or a redelivery still needs to know about them.
/// </summary>
internal sealed class InboxCleanupService(
    IServiceScopeFactory scopes,
    IOptions<ConsumerOptions> options,
    TimeProvider time,
    ILogger<InboxCleanupService> logger) : RetentionCleanup(scopes, time, logger)
{
    protected override TimeSpan Interval => options.Value.InboxCleanupInterval;

    protected override TimeSpan Retention => options.Value.InboxRetention;

    protected override string Rows => "inbox rows of exported events";

    protected override Task<int> DeleteAsync(IServiceProvider services, DateTime cutoffUtc, int limit, CancellationToken cancellationToken) =>
        services.GetRequiredService<OrderExportDbContext>().InboxMessages
            .Where(m => m.Outcome == InboxOutcome.Exported && m.HandledAtUtc < cutoffUtc)
            .OrderBy(m => m.HandledAtUtc)
            .Take(limit)
            .ExecuteDeleteAsync(cancellationToken);
}
