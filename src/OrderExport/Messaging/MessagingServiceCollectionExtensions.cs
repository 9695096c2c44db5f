using Microsoft.Extensions.Options;

namespace OrderExport.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>Kafka: its options, the connection (topics, embedded broker) and the one long-lived producer.</summary>
    public static IServiceCollection AddOrderExportMessaging(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KafkaOptions>()
            .Bind(configuration.GetSection(KafkaOptions.Section))
            .ValidateDataAnnotations()
            .Validate(k => k.Topic != k.DeadLetterTopic, "Kafka:DeadLetterTopic must differ from Kafka:Topic.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<KafkaConnection>();
        services.AddSingleton<KafkaProducer>();
        return services;
    }
}
