using System.Data.Common;
using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OrderExport.Export;

/// <summary>
/// Which failures of handling a record may be retried without limit: those of the parts around
/// the record (database, broker, network, timeouts), which pass. Anything else (a bug, or a
/// record that trips one) is retried a bounded number of times and then dead-lettered, so one
/// record can never stop its partition.
/// </summary>
public static class InfrastructureFailure
{
    /// <summary>
    /// SQL Server errors that repeat on every try (SQLSTATE classes 22 and 23 elsewhere): 2627/2601
    /// duplicate key, 547 constraint, 515 NULL into NOT NULL, 8152/2628 truncation, 245/8114
    /// conversion, 220/8115 arithmetic overflow.
    /// </summary>
    private static readonly HashSet<int> SqlServerDataErrors = [2627, 2601, 547, 515, 8152, 2628, 245, 8114, 220, 8115];

    public static bool Is(Exception exception) => exception switch
    {
        // SqlClient sets no SQLSTATE: its error numbers for the same classes (see DataErrorNumbers).
        Microsoft.Data.SqlClient.SqlException sql => !sql.Errors.Cast<Microsoft.Data.SqlClient.SqlError>().Any(e => SqlServerDataErrors.Contains(e.Number)),
        // SQLSTATE class 22 (data exception: too long, bad encoding) and 23 (integrity) repeat on every try.
        DbException db => db.SqlState is not { Length: 5 } state || !(state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal)),
        DbUpdateException update => update.InnerException is not { } inner || Is(inner),
        // A record too large for the broker stays too large.
        KafkaException kafka => kafka.Error.Code != ErrorCode.MsgSizeTooLarge,
        TimeoutException or HttpRequestException or IOException or SocketException or TimeoutRejectedException or BrokenCircuitException => true,
        // A timeout surfaces as a cancellation the caller did not ask for.
        OperationCanceledException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(Is),
        _ => exception.InnerException is { } inner && Is(inner),
    };
}
