using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OrderExport.Export;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.Health;

/// <summary>
/// Degraded (not Unhealthy: the service still works) when the oldest unpublished outbox row is
/// older than <see cref="HealthOptions.OutboxMaxAge"/>, when a partition this instance consumes has
/// records waiting and finished none for <see cref="HealthOptions.ConsumerStallAfter"/> (the relay
/// is fine then, the consumer is where the work stopped), or unresolved dead letters wait for an operator.
/// </summary>
internal sealed class PipelineHealthCheck(
    IServiceScopeFactory scopes, ConsumerProgress consumer, IOptions<HealthOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stallAfter = options.Value.ConsumerStallAfter;
        var partitions = consumer.Snapshot();
        var problems = new List<string>();
        var data = new Dictionary<string, object>
        {
            ["consumerPartitions"] = partitions.Select(p => new
            {
                partition = p.Partition,
                lag = p.Lag,
                unfinished = p.Unfinished,
                oldestUnfinishedOffset = p.OldestUnfinished?.Offset,
                oldestUnfinishedOrderId = p.OldestUnfinished?.OrderKey,
                oldestUnfinishedAgeSeconds = Math.Round(p.OldestUnfinished?.Age.TotalSeconds ?? 0, 1),
                secondsSinceProgress = Math.Round(p.SinceProgress.TotalSeconds, 1),
                retries = p.Retries,
                lastError = p.LastError,
                stalled = p.IsStalled(stallAfter),
            }).ToList(),
        };

        try
        {
            // Bounded like the database check: a brown-out must not hang the readiness probe.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.CheckTimeout);
            await using var scope = scopes.CreateAsyncScope();
            var (pending, oldest) = await scope.ServiceProvider.GetRequiredService<OutboxStore>().BacklogAsync(timeout.Token);
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            var unresolved = await db.DeadLetters.CountAsync(d => d.Status == DeadLetterStatus.Unresolved, timeout.Token);
            var age = oldest is { } o ? time.GetUtcNow().UtcDateTime - o : TimeSpan.Zero;
            data["outboxPending"] = pending;
            data["outboxOldestPendingAgeSeconds"] = Math.Round(age.TotalSeconds, 1);
            data["unresolvedDeadLetters"] = unresolved;
            if (age > options.Value.OutboxMaxAge)
            {
                problems.Add($"oldest unpublished outbox row is {age.TotalSeconds:0.#} s old (limit {options.Value.OutboxMaxAge.TotalSeconds:0.#} s)");
            }

            if (unresolved > 0)
            {
                problems.Add($"{unresolved} unresolved dead letter(s) wait for an operator");
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The database check says the database is down; the consumer's part below still holds,
            // and is exactly what an operator needs during an outage.
            problems.Add($"outbox and dead letters unknown: {DatabaseUnavailable.Reason(ex)}");
        }

        problems.InsertRange(0, partitions.Where(p => p.IsStalled(stallAfter)).Select(p => p.Describe(stallAfter)));
        return problems.Count == 0
            ? HealthCheckResult.Healthy("pipeline flowing", data)
            : HealthCheckResult.Degraded(string.Join("; ", problems), data: data);
    }
}
