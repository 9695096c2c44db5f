using System.ComponentModel.DataAnnotations;

namespace OrderExport.Outbox;

/// <summary>
/// Section "Outbox":
/// <code>
/// "Outbox": {
///   "RelayEnabled": true,
///   "BatchSize": 1000,                   // rows per claim (a round publishes at most this many)
///   "Concurrency": 2,                    // claim-publish-mark loops per instance (PostgreSQL, SQL Server; SQLite: 1)
///   "PollInterval": "00:00:01",          // fallback when no commit signal arrives
///   "ListenForNotifications": true,      // PostgreSQL LISTEN/NOTIFY across instances
///   "RetryInitialDelay": "00:00:01",
///   "RetryMaxDelay": "00:01:00",
///   "Retention": "7.00:00:00",           // published rows are deleted after this
///   "CleanupInterval": "00:01:00"
/// }
/// </code>
/// </summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    public bool RelayEnabled { get; set; } = true;

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// Relay loops per instance where the claim locks its rows (PostgreSQL, SQL Server), each claiming,
    /// publishing and marking its own batches. The first wakes on commits; the others join when a batch
    /// comes back full (a backlog), so that while one loop waits for the broker's acknowledgements another
    /// claims and marks (docs/decisions/0005-outbox-relay.md). SQLite relays with one loop whatever this says.
    /// </summary>
    [Range(1, 16)]
    public int Concurrency { get; set; } = DefaultConcurrency;

    public const int DefaultConcurrency = 2;

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public bool ListenForNotifications { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);
}
