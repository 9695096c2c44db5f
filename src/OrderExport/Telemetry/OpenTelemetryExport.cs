using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OrderExport.Telemetry;

/// <summary>
/// Exports traces and metrics over OTLP when an endpoint is configured. Built by hand because
/// OpenTelemetry.Extensions.Hosting is not in our NuGet mirror: this hosted service owns the
/// tracer and meter providers and flushes them on shutdown.
/// </summary>
internal sealed partial class OpenTelemetryExport(
    IOptions<TelemetryOptions> options, IConfiguration configuration, ILogger<OpenTelemetryExport> logger) : IHostedService, IDisposable
{
    /// <summary>ASP.NET Core and HttpClient publish their own spans and metrics under these names.</summary>
    private static readonly string[] Sources = [OrderExportActivities.SourceName, "Microsoft.AspNetCore", "System.Net.Http"];

    private static readonly string[] Meters =
        [OrderExportMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    private TracerProvider? _tracing;
    private MeterProvider? _metrics;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = options.Value.OtlpEndpoint is { Length: > 0 } configured ? configured : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return Task.CompletedTask;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            throw new OptionsValidationException(TelemetryOptions.Section, typeof(TelemetryOptions),
                [$"Telemetry:OtlpEndpoint '{endpoint}' is not an absolute URI."]);
        }

        var resource = ResourceBuilder.CreateDefault().AddService(options.Value.ServiceName);
        _tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(Sources)
            .AddOtlpExporter(o => o.Endpoint = uri)
            .Build();
        _metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Meters)
            .AddOtlpExporter(o => o.Endpoint = uri)
            .Build();
        LogExporting(uri);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _tracing?.ForceFlush(2000);
        _metrics?.ForceFlush(2000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _tracing?.Dispose();
        _metrics?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting traces and metrics over OTLP to {OtlpEndpoint}")]
    private partial void LogExporting(Uri otlpEndpoint);
}
