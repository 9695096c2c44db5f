using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OrderExport.Persistence;

namespace OrderExport.Health;

/// <summary>
/// Unhealthy, naming the database, when it does not answer <c>SELECT 1</c> in time, or when the
/// schema could not be migrated yet (the database was unreachable at start-up).
/// </summary>
internal sealed class DatabaseHealthCheck(
    IServiceScopeFactory scopes, DatabaseSchema schema, IOptions<DatabaseOptions> database, IOptions<HealthOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.CheckTimeout);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
            var name = DatabaseUnavailable.Describe(database.Value.Provider, db.Database.GetDbConnection());
            if (!schema.IsMigrated)
            {
                return HealthCheckResult.Unhealthy(
                    $"{name}: schema not migrated yet ({(schema.LastError is { } error ? DatabaseUnavailable.Reason(error) : "migrating")})");
            }

            try
            {
                await db.Database.ExecuteSqlRawAsync(SqlDialect.PingSql, timeout.Token);
                return HealthCheckResult.Healthy(name);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"{name} unreachable: {DatabaseUnavailable.Reason(ex)}");
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"database unreachable: {ex.GetBaseException().Message}");
        }
    }
}
