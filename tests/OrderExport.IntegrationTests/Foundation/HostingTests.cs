using System.Net;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Foundation;

public sealed class HostingTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task Service_StartsAndAnswersLiveness()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var client = app.Start();

        var response = await client.GetAsync("/health/live", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheOrdersApi()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString);
        var client = app.Start();

        var document = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        document.ShouldContain("\"/orders/confirm\"");
        document.ShouldContain("\"/orders/{id}\"");
    }

    [Fact]
    public async Task BadConfiguration_FailsStartupNamingTheSetting()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString,
            new Dictionary<string, string?> { ["Outbox:BatchSize"] = "0" });

        var failure = Should.Throw<Exception>(() => app.Start());

        failure.ToString().ShouldContain("BatchSize");
    }
}
