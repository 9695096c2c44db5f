using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>Closed-loop writers (as fast as they can) and an open-loop schedule (a fixed clock).</summary>
internal static class LoadGenerators
{
    /// <summary>
    /// Runs <paramref name="writers"/> loops of <paramref name="operation"/> for warm-up + window.
    /// Counts operations that complete inside the window and their durations; the warm-up's are
    /// discarded. Operations are never cancelled: at the end each loop finishes the one in hand.
    /// </summary>
    public static async Task<ClosedLoopResult> ClosedLoopAsync(
        int writers, TimeSpan warmUp, TimeSpan window, Func<Task> operation,
        Func<Task>? onWindowStart = null, Func<Task>? onWindowEnd = null)
    {
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var windowStart = warmUp;
        var windowEnd = warmUp + window;
        var durations = new ConcurrentBag<double>();
        var failures = 0;

        async Task Writer()
        {
            while (!stop.IsCancellationRequested)
            {
                var started = clock.Elapsed;
                try
                {
                    await operation();
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                var done = clock.Elapsed;
                if (done >= windowStart && done < windowEnd)
                {
                    durations.Add((done - started).TotalMilliseconds);
                }
            }
        }

        var tasks = Enumerable.Range(0, writers).Select(_ => Task.Run(Writer)).ToArray();
        await Task.Delay(warmUp);
        var windowStartUtc = DateTime.UtcNow;
        if (onWindowStart is not null)
        {
            await onWindowStart();
        }

        // On a busy machine the warm-up's wake-up and the window-start hook may eat into the window.
        if (windowEnd - clock.Elapsed is { Ticks: > 0 } remaining)
        {
            await Task.Delay(remaining);
        }

        var windowEndUtc = DateTime.UtcNow;
        if (onWindowEnd is not null)
        {
            await onWindowEnd();
        }

        await stop.CancelAsync();
        await Task.WhenAll(tasks);
        return new ClosedLoopResult([.. durations], window, windowStartUtc, windowEndUtc, failures);
    }

    /// <summary>
    /// Starts <paramref name="send"/> at intended times start + i/rate from a dedicated thread,
    /// never waiting for earlier sends: a slow send delays nobody, and each send is handed its
    /// intended time so latency is measured from it (no coordinated omission). The thread sleeps
    /// to each deadline with clock_nanosleep (no spinning: two cores are shared with the system
    /// under test); how late it fired is recorded, and counts against the measured latency.
    /// </summary>
    public static async Task<List<OpenLoopSend>> OpenLoopAsync(double rate, TimeSpan duration, Func<DateTime, Task> send)
    {
        var sends = new List<OpenLoopSend>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp();
            var startUtc = DateTime.UtcNow;
            var total = (long)(rate * duration.TotalSeconds);
            for (long i = 0; i < total; i++)
            {
                var intended = TimeSpan.FromSeconds(i / rate);
                Clock.SleepUntil(start + (long)(intended.TotalSeconds * Stopwatch.Frequency));
                var lag = Stopwatch.GetElapsedTime(start) - intended;
                var intendedUtc = startUtc + intended;
                sends.Add(new OpenLoopSend(intendedUtc, lag.TotalMilliseconds, Task.Run(() => send(intendedUtc))));
            }

            done.SetResult();
        })
        {
            IsBackground = true,
            Name = "bench open loop",
            Priority = ThreadPriority.AboveNormal,
        };
        thread.Start();
        await done.Task;
        return sends;
    }
}

/// <summary>One open-loop send: when it should have started, how late it started, and the send itself.</summary>
internal sealed record OpenLoopSend(DateTime IntendedUtc, double LagMs, Task Send);

internal sealed record ClosedLoopResult(
    IReadOnlyList<double> DurationsMs, TimeSpan Window, DateTime WindowStartUtc, DateTime WindowEndUtc, int Failures)
{
    public double Rate => DurationsMs.Count / Window.TotalSeconds;

    public double MeanMs => DurationsMs.Count == 0 ? double.NaN : DurationsMs.Average();
}
