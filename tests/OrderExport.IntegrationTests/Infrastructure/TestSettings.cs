namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// What the test run was given by eng/test.sh (or by hand). PostgreSQL is required: without
/// it the tests fail with this message instead of skipping.
/// </summary>
public static class TestSettings
{
    public const string PostgresVariable = "ORDEREXPORT_TEST_POSTGRES";
    public const string KafkaVariable = "ORDEREXPORT_TEST_KAFKA";

    public static string PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. The integration tests need a real PostgreSQL: run them through "
                + $"eng/test.sh (it starts a private PostgreSQL 15), or set {PostgresVariable} to an admin connection "
                + "string such as 'Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres'.");

    /// <summary>Bootstrap servers of an external broker (docker compose); null runs the embedded broker.</summary>
    public static string? ExternalKafka =>
        Environment.GetEnvironmentVariable(KafkaVariable) is { Length: > 0 } value ? value : null;
}
