namespace OrderExport.Hosting;

/// <summary>
/// Runs a piece of housekeeping now and then every <c>interval</c> until shutdown. A failed run
/// is logged by the caller's <c>onError</c> and the next tick tries again: housekeeping never
/// stops the host.
/// </summary>
internal static class PeriodicWork
{
    public static async Task RunAsync(
        TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> work, Action<Exception> onError, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            do
            {
                try
                {
                    await work(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    onError(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
