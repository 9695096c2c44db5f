using System.Diagnostics;
using System.Runtime.InteropServices;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>Sleeping to a Stopwatch deadline with sub-millisecond precision (Thread.Sleep has 1 ms steps).</summary>
internal static partial class Clock
{
    private const int ClockMonotonic = 1;
    private const int TimerAbsTime = 1;
    private const int Interrupted = 4;

    // On Linux, Stopwatch timestamps are CLOCK_MONOTONIC nanoseconds, so they are absolute deadlines for it.
    private static bool _precise = OperatingSystem.IsLinux() && Stopwatch.Frequency == 1_000_000_000;

    public static void SleepUntil(long stopwatchTimestamp)
    {
        if (_precise)
        {
            try
            {
                var deadline = new Timespec(stopwatchTimestamp / 1_000_000_000, stopwatchTimestamp % 1_000_000_000);
                while (ClockNanosleep(ClockMonotonic, TimerAbsTime, in deadline, IntPtr.Zero) == Interrupted)
                {
                }

                return;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                _precise = false;
            }
        }

        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), stopwatchTimestamp);
        if (wait > TimeSpan.Zero)
        {
            Thread.Sleep(wait);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Timespec(long Seconds, long Nanoseconds);

    [LibraryImport("libc.so.6", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clockId, int flags, in Timespec request, IntPtr remain);
}
