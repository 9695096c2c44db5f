using OrderExport.Api;
using OrderExport.Export;
using OrderExport.Health;
using OrderExport.Messaging;
using OrderExport.Operations;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Telemetry;

namespace OrderExport;

/// <summary>
/// The composition root: each folder registers its own options, services and routes; this lists
/// them, so Program.cs stays a few lines. docs/architecture.md says which folder may use which.
/// </summary>
public static class OrderExportServiceCollectionExtensions
{
    public static WebApplicationBuilder AddOrderExport(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddSingleton(TimeProvider.System);

        // Commands, queries and domain-event notifications. The source generator writes this
        // method's registrations and the dispatch at compile time; the options must be constants.
        // Scoped: a handler shares its request's (or save's) DbContext, which is scoped.
        services.AddMediator(options =>
        {
            options.ServiceLifetime = ServiceLifetime.Scoped;
            options.GenerateTypesAsInternal = true;
            // Handlers of one notification run one after another: they share one DbContext.
            options.NotificationPublisherType = typeof(global::Mediator.ForeachAwaitPublisher);
        });

        services.AddOrderExportApi(configuration);
        services.AddOrderExportTelemetry(configuration);
        services.AddOrderExportHealth(configuration);
        services.AddOrderExportPersistence(configuration);
        services.AddOrderExportMessaging(configuration);
        services.AddOrderExportOutbox(configuration);
        services.AddOrderExportPlatform(configuration);
        services.AddOrderExportConsumer(configuration);
        services.AddOrderExportOperations();

        services.AddHostedService<StartupBanner>();
        return builder;
    }

    public static WebApplication MapOrderExport(this WebApplication app)
    {
        app.UseMiddleware<HttpServerSpanEnricher>();
        app.UseOrderExportApi();

        app.MapOrderExportHealth();
        app.MapOrdersApi();
        app.MapDeadLettersApi();
        // The operations page at /ops (and / redirects there) with its read-only JSON API.
        app.MapOperations();
        app.MapOrderExportPlatform();
        return app;
    }
}
