using Microsoft.EntityFrameworkCore;

namespace OrderExport.Persistence;

/// <summary>
/// Optimistic concurrency, one way for everyone: a unit of work whose save lost a race (a row's
/// version moved) runs again on fresh state, a bounded number of times; the last conflict
/// propagates (the API answers it with 409).
/// </summary>
public static class ConcurrencyRetry
{
    /// <summary>
    /// Runs <paramref name="attempt"/> until it ends without a <see cref="DbUpdateConcurrencyException"/>,
    /// at most <paramref name="attempts"/> times; <paramref name="beforeRetry"/> runs before each new try.
    /// </summary>
    public static async Task<T> RunAsync<T>(int attempts, Func<Task<T>> attempt, Action? beforeRetry = null)
    {
        for (var tried = 1; ; tried++)
        {
            try
            {
                return await attempt();
            }
            catch (DbUpdateConcurrencyException) when (tried < attempts)
            {
                beforeRetry?.Invoke();
            }
        }
    }

    /// <summary>Runs <paramref name="writes"/> on the context of a new scope and saves; after a conflict, again on a new one.</summary>
    public static Task SaveAsync(
        IServiceScopeFactory scopes, int attempts, Func<OrderExportDbContext, Task> writes, CancellationToken cancellationToken) =>
        RunAsync(attempts, async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            await writes(db);
            return await db.SaveChangesAsync(cancellationToken);
        });
}
