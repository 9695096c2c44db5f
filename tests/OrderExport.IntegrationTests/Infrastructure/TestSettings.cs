namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>The environment variables that name external engines for the test run (eng/test.sh sets the PostgreSQL one).</summary>
public static class TestSettings
{
    public const string PostgresVariable = "ORDEREXPORT_TEST_POSTGRES";
    public const string KafkaVariable = "ORDEREXPORT_TEST_KAFKA";
    public const string SqlServerVariable = "ORDEREXPORT_TEST_SQLSERVER";

    /// <summary>The value of a variable, null when unset or empty.</summary>
    public static string? Get(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
}
