namespace OrderExport.Hosting;

internal static class Backoff
{
    /// <summary>initial × 2^(attempt-1), capped at max, with ±20% jitter so instances do not retry in lockstep.</summary>
    public static TimeSpan Exponential(int attempt, TimeSpan initial, TimeSpan max)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var delay = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(delay * jitter, max.TotalMilliseconds));
    }
}
