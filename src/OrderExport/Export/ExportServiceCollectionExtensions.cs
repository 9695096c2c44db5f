using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Platform;

namespace OrderExport.Export;

public static class ExportServiceCollectionExtensions
{
    /// <summary>
    /// The consumer: its options (checked against the platform's and Kafka's), the record's way
    /// from the poll loop to the platform, dead letters, parking and replays, and the inbox clean-up.
    /// </summary>
    public static IServiceCollection AddOrderExportConsumer(this IServiceCollection services, IConfiguration configuration)
    {
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
        // Before the consumer: hosted services stop in reverse order, so it outlives the workers that wait on it.
        services.AddSingleton<ExportBookkeeping>();
        services.AddHostedService(sp => sp.GetRequiredService<ExportBookkeeping>());
        services.AddSingleton<PlatformExporter>();
        services.AddSingleton<ParkedEvents>();
        services.AddSingleton<DeadLetterReplayer>();
        services.AddSingleton<RecordRouter>();
        services.AddSingleton<PriorChecks>();
        services.AddSingleton<ConsumerProgress>();
        services.AddSingleton<RecordHandling>();
        services.AddHostedService<ExportConsumer>();
        services.AddHostedService<InboxCleanupService>();
        return services;
    }
}
