using System.Collections.Concurrent;
using System.Diagnostics;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.IntegrationTests.Observability;

/// <summary>
/// One trace from the HTTP confirm to the platform call, linked through the Kafka record's
/// headers. An ActivityListener is our in-memory exporter (none is mirrored for OpenTelemetry).
/// </summary>
public sealed class TracingTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task Confirm_ProducesOneTraceFromRequestThroughPublishConsumeAndPlatformCall()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is OrderExportActivities.SourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var orders = new OrdersClient(app.Start());
        var order = await orders.CreateAsync();
        app.PlatformBehavior.FailNext(503);

        await orders.ConfirmAsync(order.Id);
        await Eventually.Until(() => orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);

        var write = spans.Single(s => s.DisplayName == "OrderExportRequested outbox write"
            && s.GetTagItem("orderexport.order_id") as string == order.Id.ToString());
        var trace = await Eventually.Until(
            () => Task.FromResult(spans.Where(s => s.TraceId == write.TraceId).ToList()),
            t => t.Count(s => s.DisplayName == "platform export attempt") == 2 && t.Any(s => s.Kind == ActivityKind.Server),
            because: "the confirm request's trace reaches the platform calls");

        var confirm = trace.Single(s => s.SpanId == write.ParentSpanId);
        var publish = trace.Single(s => s.DisplayName == $"{app.Topics.Topic} publish");
        var process = trace.Single(s => s.DisplayName == $"{app.Topics.Topic} process");
        var attempts = trace.Where(s => s.DisplayName == "platform export attempt").OrderBy(s => s.StartTimeUtc).ToList();

        confirm.Kind.ShouldBe(ActivityKind.Server);
        confirm.DisplayName.ShouldBe("POST /orders/confirm");
        confirm.ParentSpanId.ShouldBe(default, "the request starts the trace");
        publish.Kind.ShouldBe(ActivityKind.Producer);
        publish.ParentSpanId.ShouldBe(write.SpanId);
        publish.GetTagItem("messaging.system").ShouldBe("kafka");
        publish.GetTagItem("messaging.destination.name").ShouldBe(app.Topics.Topic);
        process.Kind.ShouldBe(ActivityKind.Consumer);
        process.ParentSpanId.ShouldBe(publish.SpanId, "linked through the Kafka record's traceparent header");
        process.GetTagItem("messaging.consumer.group.name").ShouldBe(app.Topics.ConsumerGroup);
        process.GetTagItem("orderexport.outcome").ShouldBe("exported");
        attempts.ShouldAllBe(a => a.ParentSpanId == process.SpanId);
        attempts.Select(a => a.GetTagItem("http.response.status_code")).ShouldBe([503, 200]);
    }
}
