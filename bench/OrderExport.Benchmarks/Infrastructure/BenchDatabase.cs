using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// A fresh, empty database for one run: a new database on the private PostgreSQL, or a new
/// SQLite file. The service's own migrator creates the schema when a host starts on it.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string? _adminConnectionString;
    private readonly string? _file;

    private BenchDatabase(DatabaseProvider provider, string connectionString, string name, string? admin, string? file)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Name = name;
        _adminConnectionString = admin;
        _file = file;
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    public string Name { get; }

    /// <summary>A new PostgreSQL database; <paramref name="synchronousCommit"/> sets it for every connection to it.</summary>
    public static async Task<BenchDatabase> CreatePostgresAsync(string adminConnectionString, bool synchronousCommit = false)
    {
        var name = $"orderexport_bench_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
            if (synchronousCommit)
            {
                await using var set = new NpgsqlCommand($"ALTER DATABASE \"{name}\" SET synchronous_commit = on", admin);
                await set.ExecuteNonQueryAsync();
            }
        }

        // Enough pooled connections for the writers, the relay, the consumer and the LISTEN connection.
        var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name, MaxPoolSize = 200 }.ConnectionString;
        return new BenchDatabase(DatabaseProvider.Postgres, connectionString, name, adminConnectionString, null);
    }

    public static BenchDatabase CreateSqlite(string folder)
    {
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"bench-{Guid.NewGuid():N}.db");
        return new BenchDatabase(DatabaseProvider.Sqlite, $"Data Source={file}", Path.GetFileName(file), null, file);
    }

    public DbConnection CreateConnection() => Provider == DatabaseProvider.Postgres
        ? new NpgsqlConnection(ConnectionString)
        : new SqliteConnection(ConnectionString);

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        var result = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(result!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Order id and published_at of every outbox row (UTC).</summary>
    public async Task<Dictionary<Guid, DateTime>> PublishedAtByOrderAsync()
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT order_id, published_at FROM outbox_messages WHERE published_at IS NOT NULL";
        await using var reader = await command.ExecuteReaderAsync();
        var result = new Dictionary<Guid, DateTime>();
        while (await reader.ReadAsync())
        {
            var orderId = reader.GetValue(0) switch
            {
                Guid g => g,
                string s => Guid.Parse(s),
                var other => throw new InvalidOperationException($"Unexpected uuid {other.GetType()}"),
            };
            var publishedAt = reader.GetValue(1) switch
            {
                DateTime d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
                string s => DateTime.SpecifyKind(DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc),
                var other => throw new InvalidOperationException($"Unexpected timestamp {other.GetType()}"),
            };
            result[orderId] = publishedAt;
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (_adminConnectionString is not null)
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        if (_file is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var path in new[] { _file, _file + "-wal", _file + "-shm" })
            {
                File.Delete(path);
            }
        }
    }
}
