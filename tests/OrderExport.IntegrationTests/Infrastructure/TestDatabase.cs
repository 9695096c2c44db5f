using Microsoft.Data.Sqlite;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// A fresh database of any provider: a new PostgreSQL or SQL Server database, or a temp SQLite
/// file. SQL Server skips the test, saying why, on a machine without one (<see cref="TestEngines"/>).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly IAsyncDisposable? _server;
    private readonly string? _sqliteFile;

    private TestDatabase(DatabaseProvider provider, string connectionString, IAsyncDisposable? server, string? sqliteFile)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _server = server;
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

        if (provider == DatabaseProvider.SqlServer)
        {
            var sqlServer = await SqlServerDatabase.CreateAsync();
            return new TestDatabase(provider, sqlServer.ConnectionString, sqlServer, null);
        }

        var file = Path.Combine(Path.GetTempPath(), $"orderexport-test-{Guid.NewGuid():N}.db");
        return new TestDatabase(provider, $"Data Source={file}", null, file);
    }

    /// <summary>An open ADO.NET connection of the provider, for tests that read the tables directly.</summary>
    public async Task<System.Data.Common.DbConnection> OpenAsync()
    {
        System.Data.Common.DbConnection connection = Provider switch
        {
            DatabaseProvider.Postgres => new Npgsql.NpgsqlConnection(ConnectionString),
            DatabaseProvider.SqlServer => new Microsoft.Data.SqlClient.SqlConnection(ConnectionString),
            _ => new SqliteConnection(ConnectionString),
        };
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
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
