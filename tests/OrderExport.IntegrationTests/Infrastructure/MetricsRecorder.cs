using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrderExport.Telemetry;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>Collects one host's measurements (its own IMeterFactory), not those of other tests' hosts.</summary>
public sealed class MetricsRecorder : IDisposable
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

    /// <summary>Every value recorded for <paramref name="name"/>, in the order recorded.</summary>
    public IEnumerable<double> Values(string name) => Matching(name, []).Select(m => m.Value);

    /// <summary>Polls the observable instruments and returns the largest value reported for <paramref name="name"/> with these tags.</summary>
    public double Observe(string name, params (string Key, string Value)[] tags)
    {
        var before = _measurements.Count;
        _listener.RecordObservableInstruments();
        return _measurements.Skip(before).Where(m => m.Name == name && HasTags(m.Tags, tags)).Select(m => m.Value).DefaultIfEmpty(0).Max();
    }

    public void Dispose() => _listener.Dispose();

    private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, string Value)[] tags) =>
        _measurements.Where(m => m.Name == name && HasTags(m.Tags, tags));

    private static bool HasTags(KeyValuePair<string, object?>[] measured, (string Key, string Value)[] wanted) =>
        wanted.All(t => measured.Any(m => m.Key == t.Key && m.Value?.ToString() == t.Value));
}
