using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using OrderExport.Api;
using OrderExport.Export;
using OrderExport.Health;
using OrderExport.Messaging;
using OrderExport.Operations;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Platform.Fake;
using OrderExport.Telemetry;
using Scalar.AspNetCore;

namespace OrderExport;

/// <summary>All of the service's registration and its HTTP pipeline, so Program.cs stays a few lines.</summary>
public static class OrderExportServiceCollectionExtensions
{
    public static WebApplicationBuilder AddOrderExport(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // {"orderId": A, "orderId": B} is ambiguous: refuse it rather than let the last one win.
            options.SerializerOptions.AllowDuplicateProperties = false;
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddValidation();
        services.AddOpenApi();
        services.AddMetrics();
        services.AddSingleton<OrderExportMetrics>();
        services.AddOrderExportTelemetry(configuration);
        services.AddOrderExportHealth(configuration);

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
        services.AddOrderExportPersistence(configuration);

        services.AddOptions<KafkaOptions>()
            .Bind(configuration.GetSection(KafkaOptions.Section))
            .ValidateDataAnnotations()
            .Validate(k => k.Topic != k.DeadLetterTopic, "Kafka:DeadLetterTopic must differ from Kafka:Topic.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<KafkaConnection>();
        services.AddSingleton<KafkaProducer>();

        services.AddOptions<OutboxOptions>()
            .Bind(configuration.GetSection(OutboxOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.RetryMaxDelay >= o.RetryInitialDelay, "Outbox:RetryMaxDelay must be at least Outbox:RetryInitialDelay.")
            // Each loop hands a whole batch to the producer at once; more than its queue holds fails the excess.
            .Validate(o => o.BatchSize * o.Concurrency <= KafkaProducer.QueueCapacity,
                $"Outbox:BatchSize x Outbox:Concurrency must stay within the producer's queue of {KafkaProducer.QueueCapacity} records.")
            .ValidateOnStart();
        services.AddScoped<OutboxStore>();
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddHostedService<PostgresOutboxListener>();
        services.AddHostedService<OutboxCleanupService>();
        services.AddHostedService<OutboxMonitor>();

        services.AddOrderExportPlatform(configuration);
        services.AddHttpClient(PlatformServiceCollectionExtensions.HttpClientName)
            .ConfigureHttpClient((sp, client) => client.BaseAddress ??= SelfAddress.TryFor(sp));

        services.AddOptions<ConsumerOptions>()
            .Bind(configuration.GetSection(ConsumerOptions.Section))
            .ValidateDataAnnotations()
            // A record in hand must be done before Kafka gives its partition to someone else.
            .Validate<IOptions<PlatformOptions>>(
                (consumer, platform) => consumer.DeliveryRounds * (platform.Value.TotalTimeout + consumer.RoundDelay)
                    + consumer.MaxCircuitWait < TimeSpan.FromMilliseconds(consumer.MaxPollIntervalMs),
                "Consumer:DeliveryRounds x (Platform:TotalTimeout + Consumer:RoundDelay) + Consumer:MaxCircuitWait must stay below Consumer:MaxPollIntervalMs.")
            .Validate(c => c.SessionTimeoutMs <= c.MaxPollIntervalMs, "Consumer:SessionTimeoutMs must not exceed Consumer:MaxPollIntervalMs.")
            // A record can outlive the topic's retention by up to one segment (Kafka deletes whole segments).
            .Validate<IOptions<KafkaOptions>>((c, kafka) => c.InboxRetention >= 2 * kafka.Value.TopicRetention,
                "Consumer:InboxRetention must be at least twice Kafka:TopicRetention, or a record still on the topic could be exported again after an offset reset.")
            .ValidateOnStart();
        services.AddSingleton<DeadLetterPublisher>();
        services.AddSingleton<PlatformExporter>();
        services.AddSingleton<ParkedEvents>();
        services.AddSingleton<DeadLetterReplayer>();
        services.AddSingleton<RecordRouter>();
        services.AddSingleton<ConsumerProgress>();
        services.AddSingleton<RecordHandling>();
        services.AddHostedService<ExportConsumer>();
        services.AddHostedService<InboxCleanupService>();

        services.AddOptions<OperationsOptions>()
            .Bind(configuration.GetSection(OperationsOptions.Section))
            .Validate(o => o.ApiKey.Length == 0 || o.ApiKey.Length >= OperationsOptions.MinimumKeyLength,
                $"Operations:ApiKey must be empty (operations closed) or at least {OperationsOptions.MinimumKeyLength} characters.")
            .ValidateOnStart();

        services.AddOrderExportOperations();

        services.AddHostedService<StartupBanner>();
        return builder;
    }

    public static WebApplication MapOrderExport(this WebApplication app)
    {
        app.UseMiddleware<HttpServerSpanEnricher>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestSizeLimitMiddleware>();

        app.MapOpenApi();
        if (app.Environment.IsDevelopment())
        {
            // An interactive reference over /openapi/v1.json at /scalar/v1 (assets served by the service).
            app.MapScalarApiReference();
        }

        app.MapOrderExportHealth();
        app.MapOrdersApi();
        app.MapDeadLettersApi();
        // The operations page at /ops (and / redirects there) with its read-only JSON API.
        app.MapOperations();
        // The fake platform is part of the service only while it is the platform in use: a
        // service configured with a real Platform:BaseAddress exposes no fake control routes.
        if (app.Services.GetRequiredService<IOptions<PlatformOptions>>().Value.UseInProcessFake)
        {
            app.MapFakePlatform();
        }
        return app;
    }
}
