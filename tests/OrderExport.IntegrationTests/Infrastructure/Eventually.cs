using System.Diagnostics;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// Time-bounded polling for asynchronous outcomes (Awaitility's <c>await().atMost(...)</c>):
/// checks until the condition holds or the time is up, then fails with what it last saw.
/// Never a fixed sleep followed by hope.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>Polls <paramref name="probe"/> until <paramref name="until"/> accepts its value; returns that value.</summary>
    public static async Task<T> Until<T>(
        Func<Task<T>> probe, Func<T, bool> until, TimeSpan? timeout = null, string? because = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        var cancellation = TestContext.Current.CancellationToken;
        T last;
        Exception? lastError = null;
        while (true)
        {
            try
            {
                last = await probe();
                if (until(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                last = default!;
                lastError = ex;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException(
                    $"Condition not met within {limit.TotalSeconds:0.#} s{(because is null ? "" : $" ({because})")}; last value: {Describe(last)}",
                    lastError);
            }

            await Task.Delay(PollInterval, cancellation);
        }
    }

    public static Task<bool> True(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null) =>
        Until(condition, ok => ok, timeout, because);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Collections.ICollection c => $"{c.Count} items",
        _ => value.ToString() ?? "?",
    };
}
