using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrderExport.Api;
using OrderExport.Platform;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// The fake platform on its own Kestrel port: one external platform that several service
/// instances, in this process or in others, export to over real HTTP (Platform:BaseAddress).
/// Its record outlives any instance, so an instance killed mid-export loses nothing of it.
/// </summary>
public sealed class PlatformServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PlatformServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public FakePlatformRecorder Recorder => _app.Services.GetRequiredService<FakePlatformRecorder>();

    public static async Task<PlatformServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);
        builder.Services.AddOrderExportPlatform(builder.Configuration);
        var app = builder.Build();
        app.MapFakePlatform();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new PlatformServer(app, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
