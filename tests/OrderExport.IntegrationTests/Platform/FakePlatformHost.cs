using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrderExport.Api;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.IntegrationTests.Platform;

/// <summary>
/// The fake platform endpoints on Kestrel (loopback, free port), and the real client pointed at
/// them the way the service does it with an empty Platform:BaseAddress: its own address. Also the
/// one external platform that several service instances (in this process or in others) export
/// to over real HTTP (their Platform:BaseAddress = <see cref="Address"/>): its record outlives any
/// instance, so an instance killed mid-export loses nothing of it.
/// </summary>
internal sealed class FakePlatformHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakePlatformHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public IPlatformClient Client => _app.Services.GetRequiredService<IPlatformClient>();

    public FakePlatformBehavior Behavior => _app.Services.GetRequiredService<FakePlatformBehavior>();

    public FakePlatformRecorder Recorder => _app.Services.GetRequiredService<FakePlatformRecorder>();

    public static async Task<FakePlatformHost> StartAsync(Dictionary<string, string?>? settings = null, string environment = "Development")
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Generous: a cold first request on a loaded 2-core CI machine can take a few hundred ms.
            ["Platform:AttemptTimeout"] = "00:00:05",
            ["Platform:RetryBaseDelay"] = "00:00:00.001",
            ["Platform:RetryMaxDelay"] = "00:00:00.010",
        }).AddInMemoryCollection(settings ?? []);
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);
        builder.Services.AddOrderExportPlatform(builder.Configuration);
        builder.Services.Configure<OperationsOptions>(builder.Configuration.GetSection(OperationsOptions.Section));

        WebApplication? started = null;
        builder.Services.AddHttpClient(PlatformServiceCollectionExtensions.HttpClientName)
            .ConfigureHttpClient(client => client.BaseAddress = new Uri(started!.Urls.First()));

        var app = builder.Build();
        app.MapFakePlatform();
        await app.StartAsync(TestContext.Current.CancellationToken);
        started = app;
        return new FakePlatformHost(app, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
