using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace OrderExport.Persistence;

/// <summary>
/// Lets SQLite itself wait for its write lock (<c>PRAGMA busy_timeout</c>) on every connection.
/// Microsoft.Data.Sqlite does not set it: on SQLITE_BUSY it sleeps 150 ms and tries again
/// (dotnet/efcore#28135, #36658), and with the API, the relay and the consumer all writing to one
/// file that sleep came round on nearly every order (the zero-set-up pipeline ran at 30 orders/s
/// against 1,300 writes/s for the database alone). SQLite's own handler retries within
/// milliseconds. No package offers this; it is one statement per connection opened.
/// </summary>
public sealed class SqliteBusyTimeoutInterceptor : DbConnectionInterceptor
{
    /// <summary>Below the managed 30 s command timeout, which still applies after it.</summary>
    public const int BusyTimeoutMs = 5_000;

    private static readonly string Pragma = FormattableString.Invariant($"PRAGMA busy_timeout = {BusyTimeoutMs};");

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
