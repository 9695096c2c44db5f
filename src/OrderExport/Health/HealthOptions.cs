using System.ComponentModel.DataAnnotations;

namespace OrderExport.Health;

/// <summary>
/// Section "Health":
/// <code>
/// "Health": {
///   "OutboxMaxAge": "00:01:00",        // ready is Degraded when the oldest unpublished row is older
///   "ConsumerStallAfter": "00:02:00",  // ...or when a partition with work finished nothing for this long
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

    /// <summary>
    /// How long a partition this instance consumes may have records waiting and finish none before
    /// readiness turns Degraded. Well above one record's normal platform budget (Platform:TotalTimeout
    /// per round, Consumer:DeliveryRounds rounds: 3 x 10 s by default), so a slow export is not a stall;
    /// a record parked behind a dead letter counts as finished, so a held order never is one.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan ConsumerStallAfter { get; set; } = TimeSpan.FromMinutes(2);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(3);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(5);
}
