using Microsoft.Data.Sqlite;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>A fresh database of either provider: a new PostgreSQL database, or a temp SQLite file.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly PostgresDatabase? _postgres;
    private readonly string? _sqliteFile;

    private TestDatabase(DatabaseProvider provider, string connectionString, PostgresDatabase? postgres, string? sqliteFile)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _postgres = postgres;
        _sqliteFile = sqliteFile;
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            var postgres = await PostgresDatabase.CreateAsync();
            return new TestDatabase(provider, postgres.ConnectionString, postgres, null);
        }

        var file = Path.Combine(Path.GetTempPath(), $"orderexport-test-{Guid.NewGuid():N}.db");
        return new TestDatabase(provider, $"Data Source={file}", null, file);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        if (_sqliteFile is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(_sqliteFile + suffix);
            }
        }
    }
}
