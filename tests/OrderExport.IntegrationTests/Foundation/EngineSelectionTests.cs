using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Foundation;

/// <summary>
/// Which engines a test run gets (pure logic: no Docker, no broker, no database is touched):
/// ORDEREXPORT_TEST_* first, then Testcontainers where a Docker engine answers, then the embedded
/// broker and nothing else (PostgreSQL tests then fail, SQL Server tests are skipped).
/// </summary>
public sealed class EngineSelectionTests
{
    private const string NoDocker = "no Docker socket at /var/run/docker.sock";

    [Fact]
    public void NothingNamed_NoDocker_EmbeddedBroker_NoDatabases()
    {
        var selection = EngineSelection.Select(Variables(), NoDocker);

        selection.ShouldBe(new EngineSelection(EngineSource.Embedded, EngineSource.Missing, EngineSource.Missing, NoDocker));
        selection.SqlServerSkipReason.ShouldNotBeNull().ShouldContain(TestSettings.SqlServerVariable);
        selection.SqlServerSkipReason.ShouldContain(NoDocker);
    }

    [Fact]
    public void OurCiMachines_LocalPostgres_NoDocker()
    {
        var selection = EngineSelection.Select(Variables((TestSettings.PostgresVariable, "Host=127.0.0.1;Port=5432")), NoDocker);

        selection.Kafka.ShouldBe(EngineSource.Embedded);
        selection.Postgres.ShouldBe(EngineSource.External);
        selection.SqlServer.ShouldBe(EngineSource.Missing);
    }

    [Fact]
    public void DockerAnswers_ContainersForWhatIsNotNamed()
    {
        var selection = EngineSelection.Select(Variables((TestSettings.PostgresVariable, "Host=127.0.0.1")), dockerProblem: null);

        selection.Kafka.ShouldBe(EngineSource.Container);
        selection.Postgres.ShouldBe(EngineSource.External, "a local PostgreSQL that eng/test.sh started wins over a container");
        selection.SqlServer.ShouldBe(EngineSource.Container);
        selection.SqlServerSkipReason.ShouldBeNull();
    }

    [Fact]
    public void NamedEngines_WinOverDocker()
    {
        var selection = EngineSelection.Select(Variables(
            (TestSettings.KafkaVariable, "localhost:9092"),
            (TestSettings.PostgresVariable, "Host=db"),
            (TestSettings.SqlServerVariable, "Server=sql,1433")), dockerProblem: null);

        selection.ShouldBe(new EngineSelection(EngineSource.External, EngineSource.External, EngineSource.External, null));
    }

    [Fact]
    public void Describe_NamesEachEngineOnALineOfItsOwn()
    {
        var lines = EngineSelection.Select(Variables((TestSettings.PostgresVariable, "Host=x")), NoDocker).Describe().ToList();

        lines.Count.ShouldBe(3);
        lines[0].ShouldStartWith("[engines] Kafka: embedded broker");
        lines[1].ShouldBe($"[engines] PostgreSQL: the server at {TestSettings.PostgresVariable}");
        lines[2].ShouldStartWith("[engines] SQL Server: none: its tests are skipped");
    }

    private static Func<string, string?> Variables(params (string Name, string Value)[] set) =>
        name => set.FirstOrDefault(v => v.Name == name).Value;
}
