using OrderExport.Persistence;

namespace OrderExport.UnitTests.Persistence;

public sealed class SchemaScriptTests
{
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public void Scripts_AreNumberedFromOneWithoutGaps(DatabaseProvider provider)
    {
        var scripts = SchemaMigrator.Scripts(provider);

        scripts.ShouldNotBeEmpty();
        scripts.Select(s => s.Version).ShouldBe(Enumerable.Range(1, scripts.Count));
    }

    [Fact]
    public void Scripts_ExistForEveryProviderWithTheSameVersionsAndNames()
    {
        var postgres = SchemaMigrator.Scripts(DatabaseProvider.Postgres).Select(s => (s.Version, s.Name));
        var sqlite = SchemaMigrator.Scripts(DatabaseProvider.Sqlite).Select(s => (s.Version, s.Name));
        var sqlServer = SchemaMigrator.Scripts(DatabaseProvider.SqlServer).Select(s => (s.Version, s.Name));

        sqlite.ShouldBe(postgres);
        sqlServer.ShouldBe(postgres);
    }
}
