using System.Data.Common;
using Npgsql;

namespace OrderExport.Persistence;

/// <summary>
/// Npgsql's automatic preparation for the service's PostgreSQL connections: a statement run
/// <c>Auto Prepare Min Usages</c> times (5) on a physical connection is prepared there, so PostgreSQL
/// stops parsing and planning the same text again (the relay's claim and mark, EF Core's inserts and
/// the consumer's queries repeat thousands of times a second). Npgsql recommends it and leaves it off
/// by default. A connection string that sets <c>Max Auto Prepare</c> itself wins, so <c>Max Auto
/// Prepare=0</c> turns it off, for example behind a PgBouncer older than 1.21 in transaction mode.
/// </summary>
public static class PostgresStatements
{
    /// <summary>Prepared statements kept per physical connection (least recently used ones are replaced).</summary>
    public const int MaxAutoPrepare = 64;

    // The DbContext's options are built for every scope: parse each connection string once.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Tuned = new(StringComparer.Ordinal);

    public static string WithAutoPrepare(string connectionString) => Tuned.GetOrAdd(connectionString, Tune);

    private static string Tune(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            return connectionString;
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = MaxAutoPrepare }.ConnectionString;
    }
}
