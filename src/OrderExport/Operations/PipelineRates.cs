using OrderExport.Telemetry;

namespace OrderExport.Operations;

/// <summary>
/// Orders confirmed and records exported per second over the last <see cref="Capacity"/> seconds,
/// sampled from this instance's counters once a second into a ring buffer, so a page opened now
/// shows the last minutes at once. This instance's view only: other replicas count their own.
/// </summary>
public sealed class PipelineRates(OrderExportMetrics metrics, TimeProvider time) : BackgroundService
{
    /// <summary>Seconds kept: five minutes.</summary>
    public const int Capacity = 300;

    private readonly Lock _lock = new();
    private readonly RateSample[] _samples = new RateSample[Capacity];
    private int _next;
    private int _count;
    private long _lastConfirmed = metrics.ConfirmedTotal;
    private long _lastExported = metrics.ExportedTotal;

    /// <summary>Oldest first.</summary>
    public IReadOnlyList<RateSample> History()
    {
        lock (_lock)
        {
            var start = (_next - _count + Capacity) % Capacity;
            return [.. Enumerable.Range(0, _count).Select(i => _samples[(start + i) % Capacity])];
        }
    }

    /// <summary>Takes one sample: what the counters gained since the previous one.</summary>
    internal void Sample()
    {
        var confirmed = metrics.ConfirmedTotal;
        var exported = metrics.ExportedTotal;
        lock (_lock)
        {
            _samples[_next] = new RateSample(time.GetUtcNow(), confirmed - _lastConfirmed, exported - _lastExported);
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
            _lastConfirmed = confirmed;
            _lastExported = exported;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Sample();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}

/// <summary>One second: orders confirmed and records exported during the second that ended at <see cref="At"/>.</summary>
public sealed record RateSample(DateTimeOffset At, long Confirmed, long Exported);
