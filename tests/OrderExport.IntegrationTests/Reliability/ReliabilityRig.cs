using System.Diagnostics;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging.Embedded;
using OrderExport.Persistence;
using OrderExport.Platform;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Everything one reliability scenario runs on: a fresh PostgreSQL database, a broker (a private
/// one for faults other tests must not see), the scenario's own topics, optionally a TCP proxy
/// between the service and the database, and the service's lifetimes (one or more, one after
/// another, sharing the database and topics). Keeps every lifetime's fake platform record, so the
/// audit can merge them into one platform.
/// </summary>
public sealed class ReliabilityRig : IAsyncDisposable
{
    private readonly KafkaTestBroker? _ownBroker;
    private readonly List<OrderExportApp> _running = [];
    private readonly List<FakePlatformRecorder> _platforms = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private ReliabilityRig(KafkaTestBroker broker, KafkaTestBroker? ownBroker, PostgresDatabase database, TestTopics topics, TcpProxy? proxy)
    {
        Broker = broker;
        _ownBroker = ownBroker;
        Database = database;
        Topics = topics;
        Proxy = proxy;
    }

    public KafkaTestBroker Broker { get; }

    /// <summary>The embedded cluster's fault hooks (private broker only).</summary>
    public EmbeddedKafkaCluster Cluster => Broker.Embedded ?? throw new InvalidOperationException("Fault hooks need an embedded broker.");

    public PostgresDatabase Database { get; }

    public TestTopics Topics { get; }

    /// <summary>Between the service and PostgreSQL when asked for; the audit always reads the database directly.</summary>
    public TcpProxy? Proxy { get; }

    public IReadOnlyList<FakePlatformRecorder> Platforms => _platforms;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <param name="sharedBroker">The run's shared broker; null starts a private embedded one.</param>
    public static async Task<ReliabilityRig> CreateAsync(KafkaTestBroker? sharedBroker = null, bool databaseProxy = false)
    {
        var own = sharedBroker is null ? KafkaTestBroker.StartPrivate() : null;
        var broker = sharedBroker ?? own!;
        var database = await PostgresDatabase.CreateAsync();
        var topics = await broker.CreateTopicsAsync();
        var proxy = databaseProxy ? TcpProxy.ForPostgres(database.ConnectionString) : null;
        return new ReliabilityRig(broker, own, database, topics, proxy);
    }

    /// <summary>
    /// Starts a lifetime of the service (migrations, relay, consumer) and returns it with a client.
    /// A lifetime that cannot stop gets 5 s instead of the host's default 30 (see
    /// DatabaseOutageShutdownTests for the known case); the suite reports how each stop went.
    /// </summary>
    public (OrderExportApp App, HttpClient Http) StartApp(IDictionary<string, string?>? overrides = null)
    {
        var connectionString = Proxy?.Redirect(Database.ConnectionString) ?? Database.ConnectionString;
        var settings = new Dictionary<string, string?> { ["shutdownTimeoutSeconds"] = "5" };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = new OrderExportApp(Broker, Topics, DatabaseProvider.Postgres, connectionString, settings);
        _running.Add(app);
        var http = app.Start();
        _platforms.Add(app.Platform);
        return (app, http);
    }

    /// <summary>Ends a lifetime (its platform record stays in the audit); says how the stop went.</summary>
    public async Task<string> StopAppAsync(OrderExportApp app)
    {
        _running.Remove(app);
        var clock = Stopwatch.StartNew();
        try
        {
            await app.DisposeAsync();
            return $"stopped in {clock.Elapsed.TotalSeconds:0.0} s";
        }
        catch (AggregateException stop) when (stop.Flatten().InnerExceptions.All(e => e is ObjectDisposedException))
        {
            // Known issue K1 (docs/reliability.md): after a database outage, cancelling the stopping
            // token runs an Npgsql cancellation callback on a disposed connector. The host is stopped
            // regardless; the scenarios report it instead of failing on it, DatabaseOutageShutdownTests pins it.
            return $"stop threw ObjectDisposedException from Npgsql after {clock.Elapsed.TotalSeconds:0.0} s (known issue K1)";
        }
    }

    /// <summary>
    /// Waits until every event in the database was exported or dead-lettered, nothing is left
    /// unpublished and at least <paramref name="deadLetters"/> dead letters exist; returns how long that took.
    /// </summary>
    public async Task<TimeSpan> WaitForDrainAsync(TimeSpan timeout, int deadLetters = 0)
    {
        var clock = Stopwatch.StartNew();
        await Eventually.Until(
            () => ExportAudit.ProgressAsync(Database.ConnectionString, _platforms),
            p => p.Events > 0 && p.Handled >= p.Events && p.Unpublished == 0 && p.DeadLetters >= deadLetters,
            timeout, "every event exported or dead-lettered (events, handled, unpublished, dead letters)");
        return clock.Elapsed;
    }

    public Task<AuditResult> AuditAsync() => ExportAudit.TakeAsync(Database.ConnectionString, _platforms, Broker, Topics);

    public async ValueTask DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_running).ToList())
        {
            await app.DisposeAsync();
        }

        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await Database.DisposeAsync();
        _ownBroker?.Dispose();
    }
}
