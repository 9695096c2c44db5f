using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrderExport.Platform.Fake;
using OrderExport.Telemetry;

namespace OrderExport.Platform;

public static class PlatformServiceCollectionExtensions
{
    /// <summary>
    /// The named HttpClient the platform client uses. With an empty Platform:BaseAddress it calls
    /// the service's own address (the fake platform it hosts) once the server listens; a test
    /// server's handler comes in through <c>services.AddHttpClient(HttpClientName).ConfigureHttpClient(...)</c>.
    /// </summary>
    public const string HttpClientName = "Platform";

    /// <summary>The platform client with its resilience pipeline, and the fake platform's state.</summary>
    public static IServiceCollection AddOrderExportPlatform(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PlatformOptions>()
            .Bind(configuration.GetSection(PlatformOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.UseInProcessFake || IsHttpUri(o.BaseAddress), "Platform:BaseAddress must be empty or an absolute http(s) URI.")
            .Validate(o => o.TotalTimeout >= o.AttemptTimeout, "Platform:TotalTimeout must be at least Platform:AttemptTimeout.")
            .Validate(o => o.RetryMaxDelay >= o.RetryBaseDelay, "Platform:RetryMaxDelay must be at least Platform:RetryBaseDelay.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<OrderExportMetrics>();
        var platform = services.AddHttpClient(HttpClientName, (sp, client) =>
        {
            var options = sp.GetRequiredService<IOptions<PlatformOptions>>().Value;
            if (!options.UseInProcessFake)
            {
                // A trailing slash keeps a path in the base address: ".../api/" + "platform/orders".
                client.BaseAddress = new Uri(options.BaseAddress.TrimEnd('/') + "/");
            }
            else
            {
                client.BaseAddress ??= SelfAddress.TryFor(sp);
            }

            // The pipeline owns every timeout; HttpClient's own 100 s would only cut across it.
            client.Timeout = Timeout.InfiniteTimeSpan;
        })
            .ConfigurePrimaryHttpMessageHandler(PlatformConnections.CreateHandler)
            // One handler for the process's life: its pool keeps the connections; PooledConnectionLifetime renews them (DNS).
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        // Outermost first: the resilience handler, then one span and metric for each attempt it sends.
        platform.AddResilienceHandler(PlatformResiliencePipeline.HandlerName, (builder, context) => context.ServiceProvider
            .GetRequiredService<PlatformResiliencePipeline>()
            .Configure(builder, context.ServiceProvider.GetRequiredService<IOptions<PlatformOptions>>().Value));
        platform.AddHttpMessageHandler(sp => new PlatformAttemptHandler(sp.GetRequiredService<OrderExportMetrics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<PlatformResiliencePipeline>();
        services.AddSingleton<IPlatformClient, HttpPlatformClient>();

        services.AddSingleton<FakePlatformRecorder>();
        services.AddSingleton<FakePlatformBehavior>();
        return services;
    }

    /// <summary>
    /// The fake platform's routes, only while it is the platform in use: a service configured with
    /// a real Platform:BaseAddress exposes no fake control routes.
    /// </summary>
    public static IEndpointRouteBuilder MapOrderExportPlatform(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetRequiredService<IOptions<PlatformOptions>>().Value.UseInProcessFake)
        {
            app.MapFakePlatform();
        }

        return app;
    }

    private static bool IsHttpUri(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
