using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrderExport.Api;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// One running instance of the real service (its real Program, hosted in memory), wired to the
/// test's database and to the shared test broker with the test's own topics. Several instances
/// may share one database to play several replicas.
/// </summary>
public sealed class OrderExportApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    // Opened by CreateHost once Start is subscribed to the host; the host's own start waits for it.
    private readonly TaskCompletionSource _startSubscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="services">Replaces services after the service's own (a platform client that
    /// holds chosen calls, say): the parts under test stay real.</param>
    public OrderExportApp(KafkaTestBroker broker, TestTopics topics, DatabaseProvider provider, string connectionString,
        IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        Topics = topics;
        _services = services;
        _settings = SettingsFor(broker, topics, provider, connectionString, overrides);
    }

    /// <summary>The settings every test instance runs with (a process of its own gets them as environment variables).</summary>
    public static Dictionary<string, string?> SettingsFor(KafkaTestBroker broker, TestTopics topics, DatabaseProvider provider, string connectionString,
        IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["Database:ConnectionString"] = connectionString,
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:Topic"] = topics.Topic,
            ["Kafka:DeadLetterTopic"] = topics.DeadLetterTopic,
            ["Kafka:ConsumerGroup"] = topics.ConsumerGroup,
            ["Kafka:Partitions"] = topics.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka:Producer:LingerMs"] = "1",
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["Outbox:RetryInitialDelay"] = "00:00:00.100",
            ["Outbox:RetryMaxDelay"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Consumer:AutoCommitIntervalMs"] = "100",
            ["Consumer:RoundDelay"] = "00:00:00.050",
            ["Consumer:DeliveryRounds"] = "1",
            ["Platform:AttemptTimeout"] = "00:00:00.500",
            ["Platform:RetryBaseDelay"] = "00:00:00.020",
            ["Platform:RetryMaxDelay"] = "00:00:00.100",
            ["Platform:TotalTimeout"] = "00:00:03",
            ["Operations:ApiKey"] = ApiKey,
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public const string ApiKey = "test-operations-key";

    /// <summary>The host environment ("Testing" unless a test needs Development's extras).</summary>
    public string Environment { get; init; } = "Testing";

    public TestTopics Topics { get; }

    /// <summary>What the service's own fake platform received.</summary>
    public FakePlatformRecorder Platform => Service<FakePlatformRecorder>();

    /// <summary>Tells the service's own fake platform how to misbehave.</summary>
    public FakePlatformBehavior PlatformBehavior => Service<FakePlatformBehavior>();

    /// <summary>A client that carries the operations API key.</summary>
    public HttpClient OperatorClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(OperationsOptions.HeaderName, ApiKey);
        return client;
    }

    /// <summary>Starts the host now (migrations run, hosted services start) and returns a client.</summary>
    public HttpClient Start() => CreateClient();

    private bool _onSocket;

    /// <summary>
    /// Starts the host on Kestrel at a free loopback port instead of the in-memory test server (a
    /// browser needs a real socket) and returns its address. The service then reaches its own fake
    /// platform over that socket, as it does when run for real.
    /// </summary>
    public Uri StartOnSocket()
    {
        _onSocket = true;
        UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        StartServer();
        return SelfAddress.TryFor(Services) ?? throw new InvalidOperationException("Kestrel started without an address.");
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A fresh DbContext on the app's database, for arranging and asserting.</summary>
    public async Task<T> WithDb<T>(Func<OrderExportDbContext, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<OrderExportDbContext>());
    }

    /// <summary>
    /// The real Program runs on a thread of its own and starts the host itself (app.Run); Start here
    /// only waits for it, and first asks the host's services for its lifetime. A start that fails
    /// (bad settings) makes app.Run dispose the host: were that quicker than this thread (a loaded
    /// machine), Start would throw ObjectDisposedException instead of the failure. So the host's own
    /// start waits (<see cref="StartAfterSubscribed"/>) until Start has subscribed.
    /// </summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = builder.Build();
        Task started;
        try
        {
            started = host.StartAsync(); // subscribes synchronously, then waits for the started or failed start
        }
        finally
        {
            _startSubscribed.TrySetResult();
        }

        started.GetAwaiter().GetResult();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.ConfigureTestServices(services => StartAfterSubscribed(services, _startSubscribed.Task));
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
        // The in-memory test server has no socket: the platform client reaches the service's own
        // fake platform through the test server's handler, still through the real HttpClient,
        // resilience pipeline and endpoint. (With Platform:BaseAddress set it goes out over HTTP.)
        if (!_onSocket && string.IsNullOrEmpty(_settings.GetValueOrDefault("Platform:BaseAddress")))
        {
            builder.ConfigureTestServices(services => services
                .AddHttpClient(PlatformServiceCollectionExtensions.HttpClientName)
                .ConfigureHttpClient(client => client.BaseAddress = new Uri("http://localhost/"))
                .ConfigurePrimaryHttpMessageHandler(sp => ((TestServer)sp.GetRequiredService<IServer>()).CreateHandler()));
        }
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>Wraps the host's lifetime so that its start (whose first step is <see cref="IHostLifetime.WaitForStartAsync"/>) waits for <paramref name="subscribed"/>.</summary>
    private static void StartAfterSubscribed(IServiceCollection services, Task subscribed)
    {
        var original = services.Last(d => d.ServiceType == typeof(IHostLifetime));
        services.Remove(original);
        services.Add(original.ImplementationType is { } type ? ServiceDescriptor.KeyedSingleton(typeof(IHostLifetime), nameof(StartGate), type)
            : original.ImplementationInstance is { } instance ? ServiceDescriptor.KeyedSingleton(typeof(IHostLifetime), nameof(StartGate), instance)
            : ServiceDescriptor.KeyedSingleton(typeof(IHostLifetime), nameof(StartGate), (sp, _) => original.ImplementationFactory!(sp)));
        services.AddSingleton<IHostLifetime>(sp => new StartGate(sp.GetRequiredKeyedService<IHostLifetime>(nameof(StartGate)), subscribed));
    }

    private sealed class StartGate(IHostLifetime inner, Task subscribed) : IHostLifetime
    {
        public async Task WaitForStartAsync(CancellationToken cancellationToken)
        {
            await subscribed.WaitAsync(cancellationToken);
            await inner.WaitForStartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);
    }
}
