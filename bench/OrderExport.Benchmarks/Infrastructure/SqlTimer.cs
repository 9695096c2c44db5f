using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// Adds up the time EF Core spends waiting on the database (opening a pooled connection,
/// BEGIN, the order's SELECT, the batched writes, COMMIT), as EF Core itself measures it. Per
/// write, the rest of the wall time is EF Core and the service's own code: scope and context
/// creation, Mediator's dispatch, change tracking, the domain-event interceptor, serialising the envelope.
/// </summary>
internal sealed class SqlTimer : IDbCommandInterceptor, IDbTransactionInterceptor, IDbConnectionInterceptor
{
    private long _ticks;

    public TimeSpan Total => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Reset() => Interlocked.Exchange(ref _ticks, 0);

    private void Add(TimeSpan duration) => Interlocked.Add(ref _ticks, duration.Ticks);

    public DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Add(eventData.Duration);
        return result;
    }

    public ValueTask<DbDataReader> ReaderExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Add(eventData.Duration);
        return ValueTask.FromResult(result);
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Add(eventData.Duration);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Add(eventData.Duration);
        return ValueTask.FromResult(result);
    }

    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Add(eventData.Duration);
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(
        DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Add(eventData.Duration);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Add(eventData.Duration);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Add(eventData.Duration);
        return Task.CompletedTask;
    }

    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Add(eventData.Duration);

    public Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Add(eventData.Duration);
        return Task.CompletedTask;
    }
}
