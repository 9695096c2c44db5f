using Npgsql;
using OrderExport.Persistence;

namespace OrderExport.UnitTests.Persistence;

public sealed class PostgresStatementsTests
{
    [Fact]
    public void AConnectionStringWithoutTheSetting_GetsAutomaticPreparation()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresStatements.WithAutoPrepare("Host=db;Username=app;Database=orders"));

        tuned.MaxAutoPrepare.ShouldBe(PostgresStatements.MaxAutoPrepare);
        tuned.Host.ShouldBe("db");
        tuned.Database.ShouldBe("orders");
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;MaxAutoPrepare=10", 10)]
    [InlineData("Host=db;max auto prepare=5", 5)]
    public void AConnectionStringThatSetsIt_KeepsItsOwnValue(string connectionString, int expected)
    {
        var tuned = PostgresStatements.WithAutoPrepare(connectionString);

        tuned.ShouldBe(connectionString);
        new NpgsqlConnectionStringBuilder(tuned).MaxAutoPrepare.ShouldBe(expected);
    }
}
