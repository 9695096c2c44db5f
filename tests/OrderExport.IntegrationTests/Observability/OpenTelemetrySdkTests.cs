using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.IntegrationTests.Platform;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.IntegrationTests.Observability;

/// <summary>
/// The OpenTelemetry SDK as the service registers it (AddOpenTelemetry): what an exporter gets.
/// The in-memory exporter stands where OTLP would: the service's own spans and meter, ASP.NET
/// Core's and HttpClient's instrumentation, in one trace from the confirm to the platform.
/// </summary>
public sealed class OpenTelemetrySdkTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task AnExporter_GetsTheServiceSpansAndMetrics_WithAspNetCoreAndHttpClientInstrumentation()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        // A platform on a real socket: HttpClient's instrumentation sees what goes through its
        // SocketsHttpHandler (the in-memory test server's handler bypasses it).
        await using var platform = await FakePlatformHost.StartAsync();
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?> { ["Platform:BaseAddress"] = platform.Address.ToString() },
            services => services
                .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans))
                .ConfigureOpenTelemetryMeterProvider(meters => meters.AddInMemoryExporter(metrics)));
        var orders = new OrdersClient(app.Start());
        var order = await orders.CreateConfirmedAsync();
        await Eventually.Until(() => orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);

        var trace = await Eventually.Until(() => Task.FromResult(Snapshot(spans)), s =>
        {
            var write = s.FirstOrDefault(a => a.DisplayName == "OrderExportRequested outbox write" && a.GetTagItem("orderexport.order_id") as string == order.Id.ToString());
            return write is not null && s.Count(a => a.TraceId == write.TraceId && a.Source.Name == "System.Net.Http") > 0
                && s.Any(a => a.TraceId == write.TraceId && a.Kind == ActivityKind.Server);
        }, because: "the exporter receives the confirm's trace, platform call included");

        var write = trace.Single(a => a.DisplayName == "OrderExportRequested outbox write" && a.GetTagItem("orderexport.order_id") as string == order.Id.ToString());
        var inTrace = trace.Where(a => a.TraceId == write.TraceId).ToList();
        inTrace.ShouldContain(a => a.Kind == ActivityKind.Server && a.GetTagItem("http.route") as string == "/orders/confirm", "ASP.NET Core instrumentation");
        inTrace.ShouldContain(a => a.Source.Name == OrderExportActivities.SourceName && a.DisplayName == "platform export attempt");
        inTrace.ShouldContain(a => a.Source.Name == "System.Net.Http" && a.Kind == ActivityKind.Client, "HttpClient instrumentation");

        app.Service<MeterProvider>().ForceFlush(5000).ShouldBeTrue();
        var names = Snapshot(metrics).Select(m => m.Name).ToHashSet();
        names.ShouldContain("orderexport.outbox.published");
        names.ShouldContain("http.server.request.duration");
        names.ShouldContain("http.client.request.duration");
    }

    /// <summary>The exporter appends from its own thread: copy, and try again if it was mid-append.</summary>
    private static List<T> Snapshot<T>(List<T> items)
    {
        try
        {
            return [.. items];
        }
        catch (InvalidOperationException)
        {
            return [];
        }
    }
}
