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

    [Theory]
    [InlineData("Development", true)]
    [InlineData("Testing", false)]
    public async Task ApiReference_IsServedInDevelopmentOnly_WithItsOwnAssets(string environment, bool served)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString)
        {
            Environment = environment,
        };
        var client = app.Start();

        var page = await client.GetAsync("/scalar/v1", TestContext.Current.CancellationToken);

        page.IsSuccessStatusCode.ShouldBe(served);
        if (served)
        {
            var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            html.ShouldContain("openapi/v1.json");
            html.ShouldNotContain("cdn.", Case.Insensitive, "no CDN: the service serves the reference's assets itself");
            (await client.GetAsync("/scalar/scalar.js", TestContext.Current.CancellationToken)).IsSuccessStatusCode.ShouldBeTrue();
        }
    }

    [Theory]
    [InlineData("Outbox:BatchSize=0", "BatchSize")]
    [InlineData("Kafka:Producer:LingerMs=5000", "Kafka:Producer:LingerMs")]
    [InlineData("Kafka:Producer:MaxInFlight=6", "Kafka:Producer:MaxInFlight")]
    [InlineData("Consumer:SessionTimeoutMs=60000;Consumer:MaxPollIntervalMs=59000;Consumer:MaxCircuitWait=00:00:01;Platform:TotalTimeout=00:00:01", "Consumer:SessionTimeoutMs must not exceed")]
    [InlineData("Outbox:BatchSize=50000;Outbox:Concurrency=4", "Outbox:BatchSize x Outbox:Concurrency")]
    [InlineData("Consumer:InboxRetention=7.00:00:00", "Consumer:InboxRetention must be at least twice Kafka:TopicRetention")]
    [InlineData("Operations:ApiKey=short-key", "Operations:ApiKey must be empty")]
    [InlineData("Telemetry:OtlpEndpoint=not a url", "Telemetry:OtlpEndpoint")]
    [InlineData("Telemetry:ServiceName=", "ServiceName")]
    public async Task BadConfiguration_FailsStartupNamingTheSetting(string settings, string named)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var overrides = settings.Split(';').Select(s => s.Split('=', 2)).ToDictionary(kv => kv[0], kv => (string?)kv[1]);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString, overrides);

        var failure = Should.Throw<Exception>(() => app.Start());

        failure.ToString().ShouldContain(named);
    }

    [Fact]
    public async Task EmbeddedBroker_WithAFixedBootstrapPort_AnswersKafkaToolsThere()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var port = FreePort();
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString,
            new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "", ["Kafka:EmbeddedBootstrapPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        app.Start();

        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = $"127.0.0.1:{port}" }).Build();
        var metadata = admin.GetMetadata(app.Topics.Topic, TimeSpan.FromSeconds(10));

        metadata.Topics.ShouldHaveSingleItem().Partitions.Count.ShouldBe(3);
        app.Service<OrderExport.Messaging.KafkaConnection>().BootstrapServers.ShouldBe($"127.0.0.1:{port}");
    }

    [Fact]
    public async Task EmbeddedBroker_WhenItsFixedPortIsTaken_FailsStartupNamingTheSetting()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Sqlite, database.ConnectionString,
            new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "", ["Kafka:EmbeddedBootstrapPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Should.Throw<Exception>(() => app.Start()).ToString().ShouldContain($"Kafka:EmbeddedBootstrapPort {port}");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
