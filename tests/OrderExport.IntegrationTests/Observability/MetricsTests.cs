using System.Collections.Concurrent;
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

    /// <summary>Collects one host's measurements (its own IMeterFactory), not those of other tests' hosts.</summary>
    private sealed class MetricsRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

        public MetricsRecorder(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Meter.Name == OrderExportMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.SetMeasurementEventCallback<int>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.Start();
        }

        public double Sum(string name, params (string Key, string Value)[] tags) =>
            Matching(name, tags).Sum(m => m.Value);

        public int Count(string name) => Matching(name, []).Count();

        /// <summary>Polls the observable instruments and returns the largest value reported for <paramref name="name"/>.</summary>
        public double Observe(string name)
        {
            var before = _measurements.Count;
            _listener.RecordObservableInstruments();
            return _measurements.Skip(before).Where(m => m.Name == name).Select(m => m.Value).DefaultIfEmpty(0).Max();
        }

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, string Value)[] tags) =>
            _measurements.Where(m => m.Name == name
                && tags.All(t => m.Tags.Any(mt => mt.Key == t.Key && mt.Value?.ToString() == t.Value)));
    }
}
