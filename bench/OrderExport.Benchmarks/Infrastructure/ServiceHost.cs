using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Outbox;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// The real service (AddOrderExport + MapOrderExport, Kestrel on 127.0.0.1:0) hosted in this
/// process with configuration overrides. The platform client reaches the service's own fake
/// platform over loopback HTTP, exactly as the zero-set-up run does.
/// </summary>
internal sealed class ServiceHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServiceHost(WebApplication app) => _app = app;

    public IServiceProvider Services => _app.Services;

    public KafkaConnection Kafka => Services.GetRequiredService<KafkaConnection>();

    public KafkaProducer Producer => Services.GetRequiredService<KafkaProducer>();

    public string Topic => Services.GetRequiredService<IOptions<KafkaOptions>>().Value.Topic;

    public FakePlatformRecorder Platform => Services.GetRequiredService<FakePlatformRecorder>();

    public OutboxSignal Signal => Services.GetRequiredService<OutboxSignal>();

    /// <summary>
    /// Settings every bench host shares: the given database, the service's defaults for Kafka
    /// producer, outbox and consumer, and logs at Warning (per-message Information lines would
    /// measure the console). <paramref name="bootstrapServers"/> null: the service starts its own
    /// embedded broker, as in the zero-set-up run.
    /// </summary>
    public static Dictionary<string, string?> Settings(
        BenchDatabase database, BenchOptions options, string? bootstrapServers = null, int partitions = 3)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = database.Provider.ToString(),
            ["Database:ConnectionString"] = database.ConnectionString,
            ["Kafka:BootstrapServers"] = bootstrapServers ?? "",
            ["Kafka:Partitions"] = partitions.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
            // The embedded broker's own start-up warning, once per host, says nothing new here.
            ["Logging:LogLevel:OrderExport.Messaging.KafkaConnection"] = "Error",
            // When a host stops, Kestrel goes before the consumer: an export in hand then fails and is retried. Not news.
            ["Logging:LogLevel:OrderExport.Platform"] = "Error",
            // The same calls' retries, as Polly itself logs them (up to 48 exports in flight at the stop).
            ["Logging:LogLevel:Polly"] = "Error",
            // It warns, rightly, that the fake platform is in use outside Development: here that is the point.
            ["Logging:LogLevel:OrderExport.StartupBanner"] = "Error",
        };
        foreach (var (key, value) in options.Overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<ServiceHost> StartAsync(
        IDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.AddOrderExport();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapOrderExport();
        await app.StartAsync();
        return new ServiceHost(app);
    }

    /// <summary>
    /// Sends one order through <paramref name="send"/> and waits until the fake platform has it
    /// (or <paramref name="exported"/>, counting exports across instances, moved on): the consumer
    /// has joined its group and every stage has run once. Load starts after this.
    /// </summary>
    public async Task WaitUntilFlowingAsync(Func<Task> send, Func<long>? exported = null)
    {
        exported ??= () => Platform.Received.Count;
        var before = exported();
        await send();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (exported() == before)
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("No order reached the fake platform within 60 s of start-up.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
