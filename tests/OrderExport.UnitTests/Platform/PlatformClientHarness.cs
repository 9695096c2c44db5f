using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrderExport.Platform;

namespace OrderExport.UnitTests.Platform;

/// <summary>
/// The real registration (options, named HttpClient, pipeline, client) with a scripted handler as
/// the platform, and test-sized timings: tiny backoff delays, short timeouts.
/// </summary>
internal sealed class PlatformClientHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public PlatformClientHarness(ScriptedHandler handler, IDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Platform:BaseAddress"] = "http://platform.test/api",
            ["Platform:AttemptTimeout"] = "00:00:00.300",
            ["Platform:MaxRetries"] = "3",
            ["Platform:RetryBaseDelay"] = "00:00:00.001",
            ["Platform:RetryMaxDelay"] = "00:00:00.010",
            ["Platform:TotalTimeout"] = "00:00:05",
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();

        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs))
            .AddOrderExportPlatform(configuration);
        services.AddHttpClient(PlatformServiceCollectionExtensions.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        _services = services.BuildServiceProvider(validateScopes: true);
        Client = _services.GetRequiredService<IPlatformClient>();
    }

    public IPlatformClient Client { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public static PlatformExportRequest NewRequest() =>
        new(Guid.NewGuid(), Guid.NewGuid(), 1, "customer-1", 12.50m, "EUR");

    public void Dispose() => _services.Dispose();
}
