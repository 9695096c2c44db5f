using System.ComponentModel.DataAnnotations;

namespace OrderExport.Health;

/// <summary>
/// Section "Health":
/// <code>
/// "Health": {
///   "OutboxMaxAge": "00:01:00",        // ready is Degraded when the oldest unpublished row is older
///   "CheckTimeout": "00:00:03",        // per dependency (database, broker)
///   "SampleInterval": "00:00:05"       // how often outbox gauges are refreshed
/// }
/// </code>
/// </summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan OutboxMaxAge { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(3);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(5);
}
