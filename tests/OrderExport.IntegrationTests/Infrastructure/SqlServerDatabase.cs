using Microsoft.Data.SqlClient;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// A fresh, empty SQL Server database for one test, dropped afterwards. Where the run has no SQL
/// Server (<see cref="TestEngines"/>), creating one skips the test with the reason.
/// </summary>
public sealed class SqlServerDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private SqlServerDatabase(string adminConnectionString, string name)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = new SqlConnectionStringBuilder(adminConnectionString) { InitialCatalog = name, TrustServerCertificate = true }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<SqlServerDatabase> CreateAsync()
    {
        var admin = await TestEngines.SqlServerAdminAsync();
        var name = $"orderexport_test_{Guid.NewGuid():N}";
        await using var connection = new SqlConnection(admin);
        await connection.OpenAsync();
        await using var create = new SqlCommand($"CREATE DATABASE [{name}]", connection);
        await create.ExecuteNonQueryAsync();
        return new SqlServerDatabase(admin, name);
    }

    public async ValueTask DisposeAsync()
    {
        // This database's pool only: other tests run in parallel on their own databases.
        using (var own = new SqlConnection(ConnectionString))
        {
            SqlConnection.ClearPool(own);
        }

        await using var connection = new SqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var drop = new SqlCommand(
            $"ALTER DATABASE [{Name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{Name}];", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
