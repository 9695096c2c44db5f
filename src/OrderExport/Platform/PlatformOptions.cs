using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace OrderExport.Platform;

/// <summary>
/// Section "Platform": where orders are exported to and how hard we try.
/// <code>
/// "Platform": {
///   "BaseAddress": "",                   // empty: the fake platform this service hosts under /platform
///   "AttemptTimeout": "00:00:02",        // one HTTP attempt
///   "MaxRetries": 3,                     // retries after the first attempt (0 = none)
///   "RetryBaseDelay": "00:00:00.200",    // exponential backoff with jitter from here...
///   "RetryMaxDelay": "00:00:02",         // ...capped here (a Retry-After header wins)
///   "TotalTimeout": "00:00:10",          // every attempt and every delay of one export
///   "CircuitBreaker": { "FailureRatio": 0.5, "MinimumThroughput": 20, "SamplingDuration": "00:00:30", "BreakDuration": "00:00:05" }
/// }
/// </code>
/// The Kafka consumer calls the platform between two polls. If it does not poll again within
/// max.poll.interval.ms (300 s by default) the broker evicts it from the group and the partition
/// is rebalanced mid-export, so <see cref="TotalTimeout"/> is capped well below that.
/// </summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>Absolute http(s) URI of the platform. Empty: the in-process fake (<see cref="Fake.FakePlatformApi"/>).</summary>
    public string BaseAddress { get; set; } = "";

    // Polly's own limits on timeouts: more than 10 ms, less than a day.
    [Range(typeof(TimeSpan), "00:00:00.011", "00:04:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    [Range(0, 20)]
    public int MaxRetries { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    [Range(typeof(TimeSpan), "00:00:00", "00:04:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Budget for one export including retries; at most 4 minutes (see the class remarks).</summary>
    [Range(typeof(TimeSpan), "00:00:00.011", "00:04:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(10);

    [Required, ValidateObjectMembers]
    public CircuitBreakerSettings CircuitBreaker { get; set; } = new();

    public bool UseInProcessFake => string.IsNullOrWhiteSpace(BaseAddress);

    /// <summary>Polly's limits, checked here so bad configuration fails at start-up, not on the first export.</summary>
    public sealed class CircuitBreakerSettings
    {
        /// <summary>Share of failed attempts within <see cref="SamplingDuration"/> that opens the circuit.</summary>
        [Range(0.01, 1.0)]
        public double FailureRatio { get; set; } = 0.5;

        /// <summary>Attempts needed within <see cref="SamplingDuration"/> before the ratio counts.</summary>
        [Range(2, 10_000)]
        public int MinimumThroughput { get; set; } = 20;

        [Range(typeof(TimeSpan), "00:00:00.501", "01:00:00")]
        public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>How long an open circuit fails exports at once before letting one through.</summary>
        [Range(typeof(TimeSpan), "00:00:00.501", "01:00:00")]
        public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
    }
}
