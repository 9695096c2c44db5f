using System.Diagnostics;
using Confluent.Kafka;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.IntegrationTests.Platform;
using OrderExport.Messaging.Embedded;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Everything one reliability scenario runs on: a fresh database (PostgreSQL, or SQL Server where
/// the run has one), a broker (a private
/// one for faults other tests must not see), the scenario's own topics, optionally a TCP proxy
/// between the service and the database, and the service's lifetimes (one or more, one after
/// another, sharing the database and topics). Keeps every lifetime's fake platform record, so the
/// audit can merge them into one platform.
/// </summary>
public sealed class ReliabilityRig : IAsyncDisposable
{
    private readonly KafkaTestBroker? _ownBroker;
    private readonly List<OrderExportApp> _running = [];
    private readonly List<ServiceProcess> _processes = [];
    private readonly List<FakePlatformRecorder> _platforms = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private FakePlatformHost? _platformServer;

    private ReliabilityRig(KafkaTestBroker broker, KafkaTestBroker? ownBroker, TestDatabase database, TestTopics topics, TcpProxy? proxy)
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

    public TestDatabase Database { get; }

    public DatabaseProvider Provider => Database.Provider;

    public TestTopics Topics { get; }

    /// <summary>
    /// Records one consumer may hold at once: a worker per partition, each with up to
    /// Consumer:MaxInFlightPerPartition orders side by side (the service default). A fault can
    /// interrupt each of them between the platform's 200 and its inbox row, so it bounds the
    /// repeated platform calls (each absorbed by the Idempotency-Key) one fault may cause.
    /// </summary>
    public int RecordsInFlight => Topics.Partitions * OrderExport.Export.ConsumerOptions.DefaultMaxInFlightPerPartition;

    /// <summary>Between the service and PostgreSQL when asked for; the audit always reads the database directly.</summary>
    public TcpProxy? Proxy { get; }

    public IReadOnlyList<FakePlatformRecorder> Platforms => _platforms;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <param name="sharedBroker">The run's shared broker; null starts a private embedded one.</param>
    /// <param name="sharedPlatform">Every instance exports over HTTP to one platform of the rig's
    /// (needed for <see cref="StartProcess"/>: a killed process's own fake platform dies with it).</param>
    /// <param name="provider">The database; SQL Server skips the scenario, saying why, where the run has none.</param>
    /// <param name="brokers">Brokers of the private embedded cluster (not with <paramref name="sharedBroker"/>).</param>
    public static async Task<ReliabilityRig> CreateAsync(
        KafkaTestBroker? sharedBroker = null, bool databaseProxy = false, bool sharedPlatform = false, DatabaseProvider provider = DatabaseProvider.Postgres,
        int brokers = 1)
    {
        if (databaseProxy && provider != DatabaseProvider.Postgres)
        {
            throw new ArgumentException("The database proxy speaks to PostgreSQL only.", nameof(databaseProxy));
        }

        var database = await TestDatabase.CreateAsync(provider);
        var own = sharedBroker is null ? KafkaTestBroker.StartPrivate(brokers) : null;
        var broker = sharedBroker ?? own!;
        var topics = await broker.CreateTopicsAsync();
        var proxy = databaseProxy ? TcpProxy.ForPostgres(database.ConnectionString) : null;
        var rig = new ReliabilityRig(broker, own, database, topics, proxy);
        if (sharedPlatform)
        {
            rig._platformServer = await FakePlatformHost.StartAsync();
            rig._platforms.Add(rig._platformServer.Recorder);
        }

        return rig;
    }

    /// <summary>
    /// Starts a lifetime of the service (migrations, relay, consumer) and returns it with a client.
    /// A lifetime gets 5 s to stop instead of the host's default 30, so a service that does not honour
    /// its stopping token shows up as a slow stop (see <see cref="StopAppAsync"/>) rather than a stall.
    /// </summary>
    public (OrderExportApp App, HttpClient Http) StartApp(IDictionary<string, string?>? overrides = null)
    {
        var app = new OrderExportApp(Broker, Topics, Provider, ConnectionString, InstanceSettings(overrides));
        _running.Add(app);
        var http = app.Start();
        if (_platformServer is null)
        {
            _platforms.Add(app.Platform);
        }

        return (app, http);
    }

    /// <summary>
    /// Starts an instance as a process of its own, which <see cref="ServiceProcess.Kill"/> ends
    /// the hard way. Needs the rig's shared platform. Its consumer logs partition assignments.
    /// </summary>
    public ServiceProcess StartProcess(IDictionary<string, string?>? overrides = null)
    {
        if (_platformServer is null)
        {
            throw new InvalidOperationException("A service process exports to the rig's shared platform: create the rig with sharedPlatform: true.");
        }

        var settings = InstanceSettings(overrides);
        settings["Logging:LogLevel:OrderExport.Export.ExportConsumer"] = "Information";
        settings["Logging:Console:FormatterOptions:SingleLine"] = "true";
        var process = ServiceProcess.Start(OrderExportApp.SettingsFor(Broker, Topics, Provider, ConnectionString, settings));
        _processes.Add(process);
        return process;
    }

    private string ConnectionString => Proxy?.Redirect(Database.ConnectionString) ?? Database.ConnectionString;

    private Dictionary<string, string?> InstanceSettings(IDictionary<string, string?>? overrides)
    {
        var settings = new Dictionary<string, string?> { ["shutdownTimeoutSeconds"] = "5" };
        if (_platformServer is not null)
        {
            settings["Platform:BaseAddress"] = _platformServer.Address.ToString();
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Ends a lifetime (its platform record stays in the audit); returns how long the stop took.</summary>
    public async Task<TimeSpan> StopAppAsync(OrderExportApp app)
    {
        _running.Remove(app);
        var clock = Stopwatch.StartNew();
        await app.DisposeAsync();
        return clock.Elapsed;
    }

    /// <summary>
    /// Waits until every event in the database was exported or dead-lettered, nothing is left
    /// unpublished and at least <paramref name="deadLetters"/> dead letters exist; returns how long that took.
    /// </summary>
    public async Task<TimeSpan> WaitForDrainAsync(TimeSpan timeout, int deadLetters = 0)
    {
        var clock = Stopwatch.StartNew();
        var history = new List<string>();
        var sampled = TimeSpan.Zero;
        try
        {
            await Eventually.Until(async () =>
            {
                var progress = await ExportAudit.ProgressAsync(Database, _platforms);
                if (history.Count == 0 || clock.Elapsed - sampled >= TimeSpan.FromSeconds(15))
                {
                    sampled = clock.Elapsed;
                    history.Add($"{sampled.TotalSeconds:0} s: {progress.Handled}/{progress.Events} handled, {progress.Unpublished} unpublished, {progress.Parked} parked");
                }

                return progress;
            }, p => p.Events > 0 && p.Handled >= p.Events && p.Unpublished == 0 && p.DeadLetters >= deadLetters && p.Parked == 0,
                timeout, "every event exported or dead-lettered, none left parked (events, handled, unpublished, dead letters, parked)");
        }
        catch (TimeoutException timedOut)
        {
            // Slow or stuck? The history and the consumer's lag tell them apart.
            throw new TimeoutException($"{timedOut.Message}. Progress: {string.Join("; ", history)}. Consumer lag: {ConsumerLag()}", timedOut);
        }

        return clock.Elapsed;
    }

    /// <summary>Per partition: the consumer group's committed offset against the end of the topic.</summary>
    private string ConsumerLag()
    {
        using var probe = new ConsumerBuilder<byte[], byte[]>(Broker.ConsumerConfig(Topics.ConsumerGroup)).Build();
        var partitions = TopicPartitions();
        var committed = probe.Committed(partitions, TimeSpan.FromSeconds(10));
        var ends = HighWatermarks(probe);
        return string.Join(", ", partitions.Select(tp =>
            $"[{tp.Partition.Value}] committed {committed.Single(c => c.Partition == tp.Partition).Offset} of {ends[tp.Partition.Value]}"));
    }

    /// <summary>The end offset of each of the topic's partitions, in partition order.</summary>
    public long[] HighWatermarks()
    {
        using var probe = new ConsumerBuilder<byte[], byte[]>(Broker.ConsumerConfig($"{Topics.ConsumerGroup}-probe")).Build();
        return HighWatermarks(probe);
    }

    private long[] HighWatermarks(IConsumer<byte[], byte[]> probe) =>
        [.. TopicPartitions().Select(tp => probe.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value)];

    private List<TopicPartition> TopicPartitions() =>
        [.. Enumerable.Range(0, Topics.Partitions).Select(p => new TopicPartition(Topics.Topic, p))];

    public Task<AuditResult> AuditAsync() => ExportAudit.TakeAsync(Database, _platforms, Broker, Topics);

    public async ValueTask DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_running).ToList())
        {
            await app.DisposeAsync();
        }

        foreach (var process in _processes)
        {
            process.Dispose();
        }

        if (_platformServer is not null)
        {
            await _platformServer.DisposeAsync();
        }

        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await Database.DisposeAsync();
        _ownBroker?.Dispose();
    }
}
