namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>Where an engine of the test run comes from.</summary>
public enum EngineSource
{
    /// <summary>Named in an <c>ORDEREXPORT_TEST_*</c> variable (eng/test.sh's local PostgreSQL, docker compose, a server of yours).</summary>
    External,

    /// <summary>Started by Testcontainers, because a Docker engine answers.</summary>
    Container,

    /// <summary>In this process: the embedded Kafka-protocol broker.</summary>
    Embedded,

    /// <summary>Nowhere: its tests fail (PostgreSQL) or are skipped (SQL Server), saying why.</summary>
    Missing,
}

/// <summary>
/// Which Kafka, PostgreSQL and SQL Server a test run uses, in this order: an engine named in
/// <c>ORDEREXPORT_TEST_*</c>; else, when a Docker engine answers, a Testcontainers container
/// (Kafka: the official Apache image in KRaft mode; PostgreSQL where none was named, e.g. no local
/// one was started; SQL Server); else the embedded broker, and no PostgreSQL or SQL Server.
/// Pure: the environment and the Docker probe come in, so it is tested without either.
/// </summary>
public sealed record EngineSelection(EngineSource Kafka, EngineSource Postgres, EngineSource SqlServer, string? DockerProblem)
{
    public static EngineSelection Select(Func<string, string?> variable, string? dockerProblem)
    {
        var docker = dockerProblem is null;
        EngineSource Pick(string name, EngineSource otherwise) =>
            variable(name) is not null ? EngineSource.External : docker ? EngineSource.Container : otherwise;
        return new EngineSelection(
            Pick(TestSettings.KafkaVariable, EngineSource.Embedded),
            Pick(TestSettings.PostgresVariable, EngineSource.Missing),
            Pick(TestSettings.SqlServerVariable, EngineSource.Missing),
            dockerProblem);
    }

    /// <summary>Why SQL Server tests are skipped; null when a SQL Server is there.</summary>
    public string? SqlServerSkipReason => SqlServer == EngineSource.Missing
        ? $"needs SQL Server: {TestSettings.SqlServerVariable} is not set and no Docker engine answers ({DockerProblem})"
        : null;

    /// <summary>The lines the run prints first, one per engine.</summary>
    public IEnumerable<string> Describe()
    {
        yield return "[engines] Kafka: " + Kafka switch
        {
            EngineSource.External => $"external broker at {TestSettings.KafkaVariable}",
            EngineSource.Container => "Testcontainers.Kafka (apache/kafka, KRaft)",
            _ => $"embedded broker (librdkafka mock cluster; no {TestSettings.KafkaVariable}, no Docker engine)",
        };
        yield return "[engines] PostgreSQL: " + Postgres switch
        {
            EngineSource.External => $"the server at {TestSettings.PostgresVariable}",
            EngineSource.Container => "Testcontainers.PostgreSql (postgres:15)",
            _ => $"none: {TestSettings.PostgresVariable} is not set and no Docker engine answers; its tests fail (run eng/test.sh)",
        };
        yield return "[engines] SQL Server: " + SqlServer switch
        {
            EngineSource.External => $"the server at {TestSettings.SqlServerVariable}",
            EngineSource.Container => "Testcontainers.MsSql (mcr.microsoft.com/mssql/server:2022)",
            _ => $"none: its tests are skipped ({SqlServerSkipReason})",
        };
    }
}
