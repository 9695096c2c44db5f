using Microsoft.EntityFrameworkCore.Diagnostics;
using OrderExport.Messaging;
using OrderExport.Orders;

namespace OrderExport.Outbox;

public static class OutboxServiceCollectionExtensions
{
    /// <summary>
    /// The outbox: its options, the relay and what wakes it (the in-process signal after a save,
    /// LISTEN/NOTIFY on PostgreSQL), the clean-up of published rows, and the store that tells
    /// Orders whether an order's event is still unpublished. The handler that writes the rows is
    /// Mediator's (OrderExportRequestedHandler), wired by its source generator.
    /// </summary>
    public static IServiceCollection AddOrderExportOutbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OutboxOptions>()
            .Bind(configuration.GetSection(OutboxOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.RetryMaxDelay >= o.RetryInitialDelay, "Outbox:RetryMaxDelay must be at least Outbox:RetryInitialDelay.")
            // Each loop hands a whole batch to the producer at once; more than its queue holds fails the excess.
            .Validate(o => o.BatchSize * o.Concurrency <= KafkaProducer.QueueCapacity,
                $"Outbox:BatchSize x Outbox:Concurrency must stay within the producer's queue of {KafkaProducer.QueueCapacity} records.")
            .ValidateOnStart();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<ISaveChangesInterceptor, OutboxWakeInterceptor>();
        services.AddScoped<OutboxStore>();
        services.AddScoped<IUnpublishedExports>(sp => sp.GetRequiredService<OutboxStore>());
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddHostedService<PostgresOutboxListener>();
        services.AddHostedService<OutboxCleanupService>();
        return services;
    }
}
