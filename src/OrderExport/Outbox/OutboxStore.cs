using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.Outbox;

/// <summary>A claimed outbox row: what the relay needs to publish it.</summary>
public sealed record PendingOutboxMessage(
    long Id, Guid EventId, Guid OrderId, string EventType, int SchemaVersion, string Payload, string? TraceParent, string? TraceState, int Attempts);

/// <summary>
/// The relay's SQL, kept out of EF Core's change tracker for speed: claim a batch, mark it
/// published, record failures. Provider differences live in <see cref="SqlDialect"/>.
/// </summary>
public sealed class OutboxStore(OrderExportDbContext db, SqlDialect dialect) : IUnpublishedExports
{
    private DbConnection Connection => db.Database.GetDbConnection();

    private DbTransaction? Transaction => db.Database.CurrentTransaction?.GetDbTransaction();

    public Task<IDbContextTransaction> BeginAsync(CancellationToken cancellationToken) =>
        db.Database.BeginTransactionAsync(cancellationToken);

    /// <summary>Claims up to <paramref name="limit"/> publishable rows with an id above <paramref name="after"/> (0: all), in id order.</summary>
    public async Task<List<PendingOutboxMessage>> ClaimAsync(DateTime nowUtc, long after, int limit, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = Command(dialect.ClaimOutboxSql);
        Add(command, "@now", nowUtc);
        Add(command, "@after", after);
        Add(command, "@limit", limit);
        var claimed = new List<PendingOutboxMessage>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new PendingOutboxMessage(
                reader.GetInt64(0),
                ReadGuid(reader, 1),
                ReadGuid(reader, 2),
                reader.GetString(3),
                reader.GetInt32(4),
                reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetInt32(8)));
        }

        return claimed;
    }

    public async Task MarkPublishedAsync(IReadOnlyCollection<long> ids, DateTime nowUtc, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        // PostgreSQL takes the ids as one array parameter. Elsewhere they are inlined (longs we read
        // ourselves), which keeps one statement per batch on every provider.
        var sql = dialect.MarkPublishedTakesIdArray
            ? dialect.MarkPublishedSql
            : string.Format(CultureInfo.InvariantCulture, dialect.MarkPublishedSql, string.Join(',', ids.Select(id => id.ToString(CultureInfo.InvariantCulture))));
        await using var command = Command(sql);
        Add(command, "@now", nowUtc);
        if (dialect.MarkPublishedTakesIdArray)
        {
            Add(command, "@ids", ids.ToArray());
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task MarkFailedAsync(long id, string error, DateTime nextAttemptUtc, CancellationToken cancellationToken)
    {
        await using var command = Command(SqlDialect.MarkFailedSql);
        Add(command, "@error", error.Length > 2000 ? error[..2000] : error);
        Add(command, "@next", nextAttemptUtc);
        Add(command, "@id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How many rows wait to be published, and since when the oldest one waits.</summary>
    public async Task<(long Pending, DateTime? OldestCreatedAtUtc)> BacklogAsync(CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = Command(SqlDialect.BacklogSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var pending = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
        DateTime? oldest = reader.IsDBNull(1) ? null : DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
        return (pending, oldest);
    }

    /// <summary>Deletes up to <paramref name="limit"/> rows published before <paramref name="cutoffUtc"/>.</summary>
    public async Task<int> DeletePublishedAsync(DateTime cutoffUtc, int limit, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = Command(dialect.DeletePublishedSql);
        Add(command, "@cutoff", cutoffUtc);
        Add(command, "@limit", limit);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether an event of the order is still unpublished: until the relay publishes it, its export is Pending.</summary>
    Task<bool> IUnpublishedExports.AnyAsync(Guid orderId, CancellationToken cancellationToken) =>
        db.OutboxMessages.AnyAsync(m => m.OrderId == orderId && m.PublishedAtUtc == null, cancellationToken);

    private DbCommand Command(string sql)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = Transaction;
        return command;
    }

    private void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        if (value is DateTime && dialect.DateTimeParameterType is { } type)
        {
            parameter.DbType = type;
        }

        command.Parameters.Add(parameter);
    }

    // PostgreSQL and SQL Server return uuid / uniqueidentifier; SQLite returns the TEXT EF Core stored.
    private static Guid ReadGuid(DbDataReader reader, int ordinal) =>
        reader.GetValue(ordinal) switch
        {
            Guid g => g,
            string s => Guid.Parse(s),
            var other => throw new InvalidOperationException($"Unexpected uuid representation {other.GetType()}"),
        };
}
