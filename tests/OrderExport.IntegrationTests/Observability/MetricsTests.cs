using System.Diagnostics.Metrics;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.IntegrationTests.Observability;

/// <summary>The pipeline's counters agree with what a known workload did.</summary>
public sealed class MetricsTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task AfterKnownOrders_CountersMatchTheWork()
    {
        const int orderCount = 6;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var orders = new OrdersClient(app.Start());
        using var metrics = new MetricsRecorder(app.Service<IMeterFactory>());
        app.PlatformBehavior.FailNext(503, 503);

        var ids = new List<Guid>();
        for (var i = 0; i < orderCount; i++)
        {
            ids.Add((await orders.CreateConfirmedAsync()).Id);
        }

        foreach (var id in ids)
        {
            await Eventually.Until(() => orders.GetAsync(id), o => o.ExportStatus == ExportStatus.Exported);
        }

        await Eventually.True(() => Task.FromResult(metrics.Sum("orderexport.outbox.published") == orderCount),
            because: "the relay counts after its marks commit");
        metrics.Sum("orderexport.outbox.publish_failures").ShouldBe(0);
        metrics.Sum("orderexport.consumer.handled", ("outcome", "exported")).ShouldBe(orderCount);
        metrics.Sum("orderexport.platform.attempts", ("status", "200")).ShouldBe(orderCount);
        metrics.Sum("orderexport.platform.attempts", ("status", "503")).ShouldBe(2);
        metrics.Count("orderexport.export.latency").ShouldBe(orderCount);
        metrics.Observe("orderexport.platform.circuit_state").ShouldBe(0, "closed");
        metrics.Observe("orderexport.consumer.lag").ShouldBe(0, "every assigned partition is caught up");
    }
}
