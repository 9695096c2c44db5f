using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using OrderExport.Export;
using Polly.CircuitBreaker;

namespace OrderExport.UnitTests.Export;

/// <summary>Only failures of the database, broker or network retry a record without limit; the rest are bounded.</summary>
public sealed class InfrastructureFailureTests
{
    public static TheoryData<Exception> Infrastructure =>
    [
        new SqliteException("database is locked", 5),
        new DbUpdateException("update failed", new SqliteException("disk I/O error", 10)),
        new KafkaException(ErrorCode.Local_Transport),
        new HttpRequestException("connection refused"),
        new SocketException(),
        new TimeoutException(),
        new TaskCanceledException("HttpClient.Timeout"),
        new BrokenCircuitException(),
        new InvalidOperationException("wrapped", new TimeoutException()),
        new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01"),
    ];

    public static TheoryData<Exception> NotInfrastructure =>
    [
        new ArgumentNullException("bytes"),
        new FormatException(),
        new InvalidOperationException("a bug"),
        new NullReferenceException(),
        new AggregateException(new TimeoutException(), new FormatException()),
        new PostgresException("value too long for type character varying(200)", "ERROR", "ERROR", "22001"),
        new DbUpdateException("insert failed", new PostgresException("duplicate key value", "ERROR", "ERROR", "23505")),
        new KafkaException(ErrorCode.MsgSizeTooLarge),
    ];

    [Theory]
    [MemberData(nameof(Infrastructure))]
    public void DatabaseBrokerNetworkAndTimeouts_AreInfrastructure(Exception exception) =>
        InfrastructureFailure.Is(exception).ShouldBeTrue();

    [Theory]
    [MemberData(nameof(NotInfrastructure))]
    public void BugsAndBadData_AreNot_SoTheirRecordIsDeadLetteredAfterBoundedAttempts(Exception exception) =>
        InfrastructureFailure.Is(exception).ShouldBeFalse();
}
