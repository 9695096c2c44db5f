using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrderExport.Messaging.Embedded;

namespace OrderExport.Messaging;

/// <summary>
/// Where the service's Kafka clients connect, and the client settings they share. With no
/// <c>Kafka:BootstrapServers</c> configured it starts the embedded development broker (and
/// creates the service's topics on it), so the zero-set-up run needs nothing installed.
/// </summary>
public sealed class KafkaConnection : IDisposable
{
    private readonly EmbeddedKafkaCluster? _embedded;
    private readonly TcpForwarder? _bootstrap;

    public KafkaConnection(IOptions<KafkaOptions> options, ILogger<KafkaConnection> logger)
    {
        var kafka = options.Value;
        if (kafka.UseEmbeddedBroker)
        {
            _embedded = EmbeddedKafkaCluster.Start(kafka.EmbeddedBrokers);
            _embedded.CreateTopic(kafka.Topic, kafka.Partitions, kafka.EmbeddedBrokers);
            _embedded.CreateTopic(kafka.DeadLetterTopic, kafka.Partitions, kafka.EmbeddedBrokers);
            BootstrapServers = _embedded.BootstrapServers;
            if (kafka.EmbeddedBootstrapPort > 0)
            {
                try
                {
                    _bootstrap = TcpForwarder.Start(kafka.EmbeddedBootstrapPort, BootstrapServers.Split(',')[0],
                        $"Kafka:EmbeddedBootstrapPort {kafka.EmbeddedBootstrapPort}");
                }
                catch
                {
                    _embedded.Dispose(); // start-up fails: leave no broker behind
                    throw;
                }

                BootstrapServers = $"127.0.0.1:{kafka.EmbeddedBootstrapPort}";
            }
            logger.LogWarning(
                "Kafka: running the EMBEDDED development broker at {BootstrapServers} (in memory, bounded retention, not for production); "
                + "topics {Topic} and {DeadLetterTopic} with {Partitions} partitions; native librdkafka {LibrdkafkaPath}. Set Kafka:BootstrapServers to use a real cluster.",
                BootstrapServers, kafka.Topic, kafka.DeadLetterTopic, kafka.Partitions, LibrdkafkaLibrary.Default.Path);
        }
        else
        {
            BootstrapServers = kafka.BootstrapServers;
            logger.LogInformation("Kafka: using the cluster at {BootstrapServers}", BootstrapServers);
        }
    }

    public string BootstrapServers { get; }

    public bool IsEmbedded => _embedded is not null;

    /// <summary>The embedded broker when one runs (fault hooks for tests and demos).</summary>
    public EmbeddedKafkaCluster? Embedded => _embedded;

    /// <summary>
    /// An admin client of this connection for checks and views that report failures themselves:
    /// librdkafka's own log lines are silenced, and each request gives up after <paramref name="socketTimeout"/>.
    /// </summary>
    public IAdminClient QuietAdminClient(TimeSpan socketTimeout) => new AdminClientBuilder(new AdminClientConfig
    {
        BootstrapServers = BootstrapServers,
        SocketTimeoutMs = (int)socketTimeout.TotalMilliseconds,
    }).SetLogHandler((_, _) => { }).Build();

    public ConsumerConfig ConsumerConfig(string groupId) => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        // The embedded broker answers an empty fetch only after the full wait; keep it short there.
        FetchWaitMaxMs = IsEmbedded ? 10 : 100,
    };

    public void Dispose()
    {
        _bootstrap?.Dispose();
        _embedded?.Dispose();
    }
}
