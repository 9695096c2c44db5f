using System.Diagnostics;
using System.Globalization;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// CPU and memory over one measurement window: this process's CPU time
/// (<see cref="Process.TotalProcessorTime"/>: service, harness and the in-process broker), its
/// working set sampled every 50 ms (the window's peak; <see cref="Process.PeakWorkingSet64"/> only
/// ever grows over the whole process), the private PostgreSQL's CPU from /proc (postmaster,
/// its live children and its reaped ones), the whole machine's busy share, and CPU per thread
/// name (rdk:mock is the embedded broker's one thread).
/// </summary>
internal sealed class ResourceMeter : IAsyncDisposable
{
    private static readonly double ClockTicks = double.TryParse(
        Environment.GetEnvironmentVariable("ORDEREXPORT_CLK_TCK"), CultureInfo.InvariantCulture, out var hz) ? hz : 100;

    private readonly Snapshot _start;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _peakWorkingSet;

    private ResourceMeter(string? postgresData)
    {
        PostgresData = postgresData;
        _start = Snapshot.Take(postgresData);
        _peakWorkingSet = _start.WorkingSet;
        _sampler = Task.Run(SampleAsync);
    }

    private string? PostgresData { get; }

    public static ResourceMeter Start(string? postgresData) => new(postgresData);

    public async Task<ResourceUsage> StopAsync()
    {
        var end = Snapshot.Take(PostgresData);
        await _stop.CancelAsync();
        await _sampler;
        var elapsed = end.Wall - _start.Wall;
        var threads = end.ThreadCpu
            .Select(t => (Name: t.Key.Name, Seconds: t.Value - _start.ThreadCpu.GetValueOrDefault(t.Key)))
            .GroupBy(t => t.Name, t => t.Seconds)
            .ToDictionary(g => g.Key, g => g.Sum());
        return new ResourceUsage(
            elapsed.TotalSeconds,
            (end.ProcessCpu - _start.ProcessCpu).TotalSeconds,
            end.PostgresCpu - _start.PostgresCpu,
            Math.Max(_peakWorkingSet, end.WorkingSet) / (1024.0 * 1024.0),
            end.MachineTotal > _start.MachineTotal
                ? 100.0 * (end.MachineBusy - _start.MachineBusy) / (end.MachineTotal - _start.MachineTotal)
                : 0,
            threads);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await _sampler;
        }

        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using (var self = Process.GetCurrentProcess())
                {
                    _peakWorkingSet = Math.Max(_peakWorkingSet, self.WorkingSet64);
                }

                await Task.Delay(50, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Window over.
        }
    }

    private sealed record Snapshot(
        TimeSpan Wall, TimeSpan ProcessCpu, long WorkingSet, double PostgresCpu, long MachineBusy, long MachineTotal,
        Dictionary<(int Tid, string Name), double> ThreadCpu)
    {
        public static Snapshot Take(string? postgresData)
        {
            using var self = Process.GetCurrentProcess();
            var (busy, total) = MachineJiffies();
            return new Snapshot(
                Stopwatch.GetElapsedTime(0), self.TotalProcessorTime, self.WorkingSet64, PostgresCpuSeconds(postgresData),
                busy, total, ThreadCpuSeconds());
        }
    }

    /// <summary>Seconds of CPU used by the PostgreSQL whose data folder is given; 0 when unknown.</summary>
    private static double PostgresCpuSeconds(string? postgresData)
    {
        var pidFile = postgresData is null ? null : Path.Combine(postgresData, "db", "postmaster.pid");
        if (pidFile is null || !File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First(), out var postmaster))
        {
            return 0;
        }

        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || ReadStat(Path.Combine(dir, "stat")) is not { } stat)
            {
                continue;
            }

            // Fields after "(comm)": [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
            if (pid == postmaster)
            {
                ticks += stat[11] + stat[12] + stat[13] + stat[14];
            }
            else if (stat[1] == postmaster)
            {
                ticks += stat[11] + stat[12];
            }
        }

        return ticks / ClockTicks;
    }

    private static Dictionary<(int, string), double> ThreadCpuSeconds()
    {
        var result = new Dictionary<(int, string), double>();
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            var path = Path.Combine(dir, "stat");
            if (int.TryParse(Path.GetFileName(dir), out var tid) && ReadStat(path, out var name) is { } stat)
            {
                result[(tid, name)] = (stat[11] + stat[12]) / ClockTicks;
            }
        }

        return result;
    }

    private static (long Busy, long Total) MachineJiffies()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = cpu.Take(8).Sum();
        var idle = cpu[3] + cpu[4];
        return (total - idle, total);
    }

    private static long[]? ReadStat(string path) => ReadStat(path, out _);

    /// <summary>The numeric fields after the command name of a /proc stat file, from its state field on.</summary>
    private static long[]? ReadStat(string path, out string name)
    {
        name = "";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }

        name = text[(open + 1)..close];
        // [0] is the state letter; keep it as 0 so indexes match the man page's field numbers minus 3.
        return text[(close + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(v => long.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : 0).ToArray();
    }
}

/// <summary>What one window cost. CPU in seconds; working set in MiB; machine busy in percent of all cores.</summary>
internal sealed record ResourceUsage(
    double WallSeconds, double ProcessCpuSeconds, double PostgresCpuSeconds, double PeakWorkingSetMiB, double MachineBusyPercent,
    Dictionary<string, double> ThreadCpuSeconds)
{
    /// <summary>The busiest thread names, for "which thread is the limit".</summary>
    public string TopThreads(int count = 4) => string.Join(", ", ThreadCpuSeconds
        .OrderByDescending(t => t.Value).Take(count)
        .Select(t => $"{t.Key} {t.Value / WallSeconds * 100:0}%"));
}
