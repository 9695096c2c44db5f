using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace OrderExport.Messaging;

/// <summary>
/// The one long-lived producer of the process: idempotent, acks=all, batching settings from
/// <see cref="KafkaOptions.Producer"/>. Flushed before it is disposed on shutdown. If librdkafka
/// reports a fatal error (the idempotent producer can no longer guarantee order), the next
/// caller gets a fresh producer.
/// </summary>
public sealed class KafkaProducer : IDisposable
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);

    private readonly ProducerConfig _config;
    private readonly ILogger<KafkaProducer> _logger;
    private readonly Lock _gate = new();
    private IProducer<string, byte[]>? _producer;
    private volatile bool _fatal;

    /// <summary>Records the producer may hold unacknowledged (librdkafka's queue.buffering.max.messages default).</summary>
    public const int QueueCapacity = 100_000;

    public KafkaProducer(KafkaConnection connection, IOptions<KafkaOptions> options, ILogger<KafkaProducer> logger)
    {
        var settings = options.Value.Producer;
        _logger = logger;
        _config = new ProducerConfig
        {
            BootstrapServers = connection.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = settings.LingerMs,
            BatchSize = settings.BatchSize,
            CompressionType = settings.CompressionType,
            MessageTimeoutMs = settings.MessageTimeoutMs,
            MaxInFlight = settings.MaxInFlight,
            QueueBufferingMaxMessages = QueueCapacity,
            // Java's partitioner (murmur2), not librdkafka's default consistent_random: a record of the
            // same order produced by Kafka UI, the Kafka CLI or a Java service lands on the same partition.
            Partitioner = Partitioner.Murmur2Random,
            // Only the delivery report's status is needed, not the echoed key and value.
            DeliveryReportFields = "status",
        };
    }

    /// <summary>
    /// A producer of raw key bytes on the same client (a dependent producer: no second connection),
    /// for records whose key must go out exactly as it came in (dead letters, replays). Dispose it
    /// after use; that leaves the shared client alone.
    /// </summary>
    public IProducer<byte[], byte[]> RawProducer() => new DependentProducerBuilder<byte[], byte[]>(Producer.Handle).Build();

    public IProducer<string, byte[]> Producer
    {
        get
        {
            lock (_gate)
            {
                if (_producer is not null && _fatal)
                {
                    _logger.LogWarning("Kafka producer hit a fatal error; replacing it");
                    _producer.Dispose();
                    _producer = null;
                    Connected = false;
                }

                return _producer ??= Build();
            }
        }
    }

    /// <summary>
    /// Builds the producer and fetches <paramref name="topic"/>'s metadata through it, so its broker
    /// connection and the topic's partition leaders are in place, and its idempotent producer id on
    /// the way, before the first record. Built lazily instead, the first batch after a start waited
    /// for all three: 50 ms, or about 500 ms when the producer id request missed the connection and
    /// waited for librdkafka's retry timer. Throws <see cref="KafkaException"/> when no broker answers in time.
    /// </summary>
    public void Connect(string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(Producer.Handle).Build();
        admin.GetMetadata(topic, timeout);
        Connected = true;
    }

    /// <summary>Whether <see cref="Connect"/> has reached a broker with the current producer.</summary>
    public bool Connected { get; private set; }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_producer is null)
            {
                return;
            }

            var left = _producer.Flush(FlushTimeout);
            if (left > 0)
            {
                _logger.LogWarning("Kafka producer shut down with {Undelivered} records unacknowledged; the outbox still has them", left);
            }

            _producer.Dispose();
            _producer = null;
        }
    }

    private IProducer<string, byte[]> Build()
    {
        _fatal = false;
        return new ProducerBuilder<string, byte[]>(_config)
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal)
                {
                    _fatal = true;
                    _logger.LogError("Kafka producer fatal error {KafkaErrorCode}: {KafkaReason}", error.Code, error.Reason);
                }
                else
                {
                    _logger.LogDebug("Kafka producer error {KafkaErrorCode}: {KafkaReason}", error.Code, error.Reason);
                }
            })
            .SetLogHandler((_, message) => _logger.LogDebug("librdkafka {Facility}: {Message}", message.Facility, message.Message))
            .Build();
    }
}
