using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OrderExport.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// The service's meter (<see cref="OrderExportMetrics"/>) and OpenTelemetry's hosting
    /// integration: the service's own source and meter, ASP.NET Core's and
    /// HttpClient's instrumentation, and .NET's runtime meter; exported over OTLP only when
    /// <c>Telemetry:OtlpEndpoint</c> (or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) names a collector.
    /// Tests add an in-memory exporter through <c>ConfigureOpenTelemetryTracerProvider</c>.
    /// </summary>
    public static IServiceCollection AddOrderExportTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<OrderExportMetrics>();
        services.AddOptions<TelemetryOptions>()
            .Bind(configuration.GetSection(TelemetryOptions.Section))
            .ValidateDataAnnotations()
            .Validate(t => t.OtlpEndpoint.Length == 0 || Uri.TryCreate(t.OtlpEndpoint, UriKind.Absolute, out _),
                "Telemetry:OtlpEndpoint must be empty or an absolute URL (http://host:4317).")
            .ValidateOnStart();

        var settings = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(string.IsNullOrWhiteSpace(settings.ServiceName) ? "orderexport" : settings.ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(OrderExportActivities.SourceName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(OrderExportMetrics.MeterName, "System.Runtime", "Polly")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());

        var endpoint = settings.OtlpEndpoint is { Length: > 0 } configured ? configured : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return services;
        }

        // A bad Telemetry:OtlpEndpoint is refused by the validation above; a bad environment variable here.
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var collector))
        {
            throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_ENDPOINT '{endpoint}' is not an absolute URL (http://host:4317).");
        }

        telemetry.UseOtlpExporter(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, collector);

        return services;
    }
}
