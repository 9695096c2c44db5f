using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderExport.Orders;

namespace OrderExport.Health;

/// <summary>
/// <c>/health/live</c>: the process answers (no dependency checked, so a database outage does not
/// get the service restarted). <c>/health/ready</c>: database and broker (Unhealthy, 503 when
/// down) and the pipeline (Degraded, 200, when the outbox backlog ages or dead letters wait).
/// Registered with them: the outbox backlog gauges' sampler, and the consumer's answer to
/// "why does this order's export wait" (GET /orders/{id}).
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddOrderExportHealth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>().Bind(configuration.GetSection(HealthOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<KafkaHealthCheck>();
        services.AddHostedService<OutboxMonitor>();
        services.AddSingleton<IExportWaits, ConsumerWaits>();
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<KafkaHealthCheck>("kafka", tags: [ReadyTag])
            .AddCheck<PipelineHealthCheck>("pipeline", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapOrderExportHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteReport,
        });
        return app;
    }

    private static Task WriteReport(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data,
            }),
        }, JsonSerializerOptions.Web, context.RequestAborted);
    }
}
