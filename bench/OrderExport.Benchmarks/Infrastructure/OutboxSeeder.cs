using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// Writes a backlog of unpublished outbox rows in one transaction (PostgreSQL: one binary COPY;
/// SQLite, which has no COPY: one prepared INSERT executed per row), each the record of a
/// different order. Returns just before the commit, with the commit to call: all rows become
/// visible to the relay at once.
/// </summary>
internal static class OutboxSeeder
{
    private const string Columns = "event_id, order_id, event_type, schema_version, occurred_at, payload, created_at";

    public sealed record Row(Guid EventId, Guid OrderId, string Payload, DateTime AtUtc);

    /// <summary>
    /// Writes <paramref name="count"/> already-published rows and refreshes the planner's statistics,
    /// as a long-running service's table looks: history, and statistics that see no backlog.
    /// </summary>
    public static async Task WriteHistoryAsync(BenchDatabase database, int count)
    {
        var sql = database.Provider == DatabaseProvider.Postgres
            ? $"""
              INSERT INTO outbox_messages ({Columns}, published_at)
              SELECT gen_random_uuid(), gen_random_uuid(), 'OrderExportRequested', 1, now(), repeat('x', 360), now(), now()
              FROM generate_series(1, {count});
              """
            : $"""
              WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
              INSERT INTO outbox_messages ({Columns}, published_at)
              SELECT upper(hex(randomblob(16))), upper(hex(randomblob(16))), 'OrderExportRequested', 1,
                     '2026-01-01 00:00:00', printf('%.360c', 'x'), '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n;
              """;
        await using var connection = database.CreateConnection();
        await connection.OpenAsync();
        foreach (var statement in new[] { sql, database.Provider == DatabaseProvider.Postgres ? "VACUUM ANALYZE outbox_messages" : "ANALYZE" })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = statement;
            command.CommandTimeout = 300;
            await command.ExecuteNonQueryAsync();
        }
    }

    public static Row[] Rows(int count)
    {
        var now = DateTime.UtcNow;
        return Enumerable.Range(0, count).Select(i =>
        {
            var e = Envelopes.SampleEvent(i, now);
            return new Row(e.EventId, e.OrderId, Envelopes.Json(e), now);
        }).ToArray();
    }

    /// <summary>Writes the rows inside a transaction and returns it uncommitted, with its connection.</summary>
    public static async Task<(DbConnection Connection, DbTransaction Transaction)> WriteUncommittedAsync(BenchDatabase database, Row[] rows)
    {
        var connection = database.CreateConnection();
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        if (database.Provider == DatabaseProvider.Postgres)
        {
            await using var copy = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(
                $"COPY outbox_messages ({Columns}) FROM STDIN (FORMAT BINARY)");
            foreach (var row in rows)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(row.EventId, NpgsqlDbType.Uuid);
                await copy.WriteAsync(row.OrderId, NpgsqlDbType.Uuid);
                await copy.WriteAsync("OrderExportRequested", NpgsqlDbType.Varchar);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(row.AtUtc, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(row.Payload, NpgsqlDbType.Text);
                await copy.WriteAsync(row.AtUtc, NpgsqlDbType.TimestampTz);
            }

            await copy.CompleteAsync();
        }
        else
        {
            await using var insert = (SqliteCommand)connection.CreateCommand();
            insert.Transaction = (SqliteTransaction)transaction;
            insert.CommandText = $"INSERT INTO outbox_messages ({Columns}) VALUES ($e, $o, 'OrderExportRequested', 1, $at, $p, $at)";
            var eventId = insert.Parameters.Add("$e", SqliteType.Text);
            var orderId = insert.Parameters.Add("$o", SqliteType.Text);
            var at = insert.Parameters.Add("$at", SqliteType.Text);
            var payload = insert.Parameters.Add("$p", SqliteType.Text);
            insert.Prepare();
            foreach (var row in rows)
            {
                // The text forms EF Core's SQLite provider writes for Guid and DateTime.
                eventId.Value = row.EventId.ToString().ToUpperInvariant();
                orderId.Value = row.OrderId.ToString().ToUpperInvariant();
                at.Value = row.AtUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
                payload.Value = row.Payload;
                await insert.ExecuteNonQueryAsync();
            }
        }

        return (connection, transaction);
    }
}
