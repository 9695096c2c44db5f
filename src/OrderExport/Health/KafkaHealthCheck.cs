using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;

namespace OrderExport.Health;

/// <summary>
/// Unhealthy when no broker answers a metadata request for the service's topic in time.
/// One admin client, made on first use and kept: checks run every few seconds.
/// </summary>
internal sealed class KafkaHealthCheck(KafkaConnection connection, IOptions<KafkaOptions> kafka, IOptions<HealthOptions> options)
    : IHealthCheck, IDisposable
{
    private readonly Lazy<IAdminClient> _admin = new(() => connection.QuietAdminClient(options.Value.CheckTimeout));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        // GetMetadata blocks; keep it off the request thread.
        Task.Run(() =>
        {
            try
            {
                var metadata = _admin.Value.GetMetadata(kafka.Value.Topic, options.Value.CheckTimeout);
                var topic = metadata.Topics.SingleOrDefault(t => t.Topic == kafka.Value.Topic);
                if (metadata.Brokers.Count == 0 || topic is null || topic.Error.IsError)
                {
                    return HealthCheckResult.Unhealthy($"Kafka topic {kafka.Value.Topic} unavailable: {topic?.Error.Reason ?? "no brokers"}");
                }

                return topic.Partitions.Any(p => p.Leader < 0)
                    ? HealthCheckResult.Unhealthy($"Kafka topic {kafka.Value.Topic} has partitions without a leader")
                    : HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s), {topic.Partitions.Count} partitions");
            }
            catch (KafkaException ex)
            {
                return HealthCheckResult.Unhealthy($"Kafka unreachable: {ex.Error.Reason}");
            }
        }, cancellationToken);

    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}
