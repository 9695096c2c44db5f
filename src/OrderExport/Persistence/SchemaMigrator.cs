using System.Data.Common;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace OrderExport.Persistence;

/// <summary>
/// Creates and upgrades the schema from the versioned scripts in Migrations/{Provider}/
/// (<c>NNNN_name.sql</c>, embedded in the assembly). Each script runs once, in its own
/// transaction, recorded in <c>schema_versions</c>. Instances sharing a database serialise on
/// a lock (PostgreSQL: an advisory lock; SQL Server: an application lock). We keep SQL scripts rather than EF Core migrations because EF's
/// design-time package does not restore here, and plain SQL is easy to review
/// (docs/decisions/0001-database-providers.md).
/// </summary>
public sealed class SchemaMigrator(IServiceScopeFactory scopes, SqlDialect dialect, ILogger<SchemaMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderExportDbContext>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, dialect.BeforeMigrationSql, cancellationToken);
            await ExecuteAsync(connection, null, dialect.CreateSchemaVersionsSql, cancellationToken);
            var current = await CurrentVersionAsync(connection, cancellationToken);
            var pending = Scripts(dialect.Provider).Where(s => s.Version > current).ToList();
            foreach (var script in pending)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, script.Sql, cancellationToken);
                await using (var record = connection.CreateCommand())
                {
                    record.Transaction = transaction;
                    record.CommandText = SqlDialect.RecordSchemaVersionSql;
                    AddParameter(record, "@version", script.Version);
                    AddParameter(record, "@name", script.Name);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied schema script {SchemaVersion} {SchemaScript}", script.Version, script.Name);
            }

            logger.LogInformation(
                "Database schema at version {SchemaVersion} ({Provider})",
                pending.Count > 0 ? pending[^1].Version : current, dialect.Provider);
        }
        finally
        {
            await ExecuteAsync(connection, null, dialect.AfterMigrationSql, CancellationToken.None);
            await connection.CloseAsync();
        }
    }

    /// <summary>The embedded scripts of one provider, in version order.</summary>
    public static IReadOnlyList<SchemaScript> Scripts(DatabaseProvider provider)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"{typeof(SchemaMigrator).Namespace}.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => Load(assembly, n, n[prefix.Length..^".sql".Length]))
            .OrderBy(s => s.Version)
            .ToList();
    }

    private static SchemaScript Load(Assembly assembly, string resource, string fileName)
    {
        var separator = fileName.IndexOf('_', StringComparison.Ordinal);
        if (separator <= 0 || !int.TryParse(fileName[..separator], out var version))
        {
            throw new InvalidOperationException($"Schema script '{resource}' must be named NNNN_name.sql.");
        }

        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return new SchemaScript(version, fileName[(separator + 1)..], reader.ReadToEnd());
    }

    private static async Task<int> CurrentVersionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = SqlDialect.CurrentSchemaVersionSql;
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string? sql, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            return;
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        // No command timeout: waiting for another instance's migration, or building an index on a
        // large table, may take longer than a query's 30 s; the host's stop still cancels it.
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

public sealed record SchemaScript(int Version, string Name, string Sql);
