using System.Net;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Observability;

public sealed class HealthTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task Readiness_TurnsUnhealthyWhileTheBrokerIsDown_AndHealthyAfter()
    {
        using var privateBroker = KafkaTestBroker.StartPrivate();
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(privateBroker, await privateBroker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?> { ["Health:CheckTimeout"] = "00:00:01" });
        var http = app.Start();

        await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK);
        privateBroker.Embedded!.BrokerDown(1);
        var down = await Readiness.ShouldBecome(http, "Unhealthy", HttpStatusCode.ServiceUnavailable);
        down.GetProperty("checks").GetProperty("kafka").GetProperty("status").GetString().ShouldBe("Unhealthy");
        down.GetProperty("checks").GetProperty("database").GetProperty("status").GetString().ShouldBe("Healthy");

        privateBroker.Embedded.BrokerUp(1);
        await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK);
        (await http.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readiness_IsDegradedWhenTheOutboxBacklogAgesPastTheThreshold()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?> { ["Outbox:RelayEnabled"] = "false", ["Health:OutboxMaxAge"] = "00:00:00.500" });
        var http = app.Start();
        await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK);

        await new OrdersClient(http).CreateConfirmedAsync();

        var degraded = await Readiness.ShouldBecome(http, "Degraded", HttpStatusCode.OK);
        var pipeline = degraded.GetProperty("checks").GetProperty("pipeline");
        pipeline.GetProperty("description").GetString()!.ShouldContain("oldest unpublished outbox row");
        pipeline.GetProperty("data").GetProperty("outboxPending").GetInt64().ShouldBe(1);
    }
}
