using Confluent.Kafka;
using Confluent.Kafka.Admin;
using OrderExport.Messaging.Embedded;

[assembly: AssemblyFixture(typeof(OrderExport.IntegrationTests.Infrastructure.KafkaTestBroker))]

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// The Kafka-protocol broker of the whole test run (<see cref="TestEngines"/>): the broker named by
/// ORDEREXPORT_TEST_KAFKA (docker compose), else a Testcontainers Kafka where Docker runs, else one
/// embedded broker started here. Tests create their own topics and groups (unique names), so they
/// can share it and run in parallel. Being the run's first fixture, it says which engines the run uses.
/// </summary>
public sealed class KafkaTestBroker : IDisposable
{
    public KafkaTestBroker()
        : this(TestEngines.KafkaBootstrapServers())
    {
        foreach (var line in TestEngines.Selection.Describe())
        {
            TestContext.Current.SendDiagnosticMessage(line);
        }
    }

    private KafkaTestBroker(string? external, int brokers = 1)
    {
        if (external is not null)
        {
            BootstrapServers = external;
        }
        else
        {
            Embedded = EmbeddedKafkaCluster.Start(brokers);
            BootstrapServers = Embedded.BootstrapServers;
        }
    }

    /// <summary>
    /// A broker of one's own, for tests that inject faults the shared broker must not see
    /// (broker down, failing commits, leaders moving). Always embedded: fault hooks need the mock
    /// cluster. Its topics are replicated to all <paramref name="brokers"/>.
    /// </summary>
    public static KafkaTestBroker StartPrivate(int brokers = 1) => new(external: null, brokers);

    public string BootstrapServers { get; }

    /// <summary>The embedded broker, with its fault hooks; null when testing against an external one.</summary>
    public EmbeddedKafkaCluster? Embedded { get; }

    public bool IsEmbedded => Embedded is not null;

    /// <summary>Unique topic and DLQ names for one test, created with <paramref name="partitions"/> partitions.</summary>
    public async Task<TestTopics> CreateTopicsAsync(int partitions = 3)
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var topics = new TestTopics($"order-export-{suffix}", $"order-export-{suffix}.dlq", $"order-export-consumer-{suffix}", partitions);
        await CreateTopicAsync(topics.Topic, partitions);
        await CreateTopicAsync(topics.DeadLetterTopic, partitions);
        return topics;
    }

    public async Task CreateTopicAsync(string name, int partitions)
    {
        if (Embedded is not null)
        {
            Embedded.CreateTopic(name, partitions, Embedded.BrokerCount);
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = -1 }]);
    }

    public ConsumerConfig ConsumerConfig(string groupId) => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        FetchWaitMaxMs = 10,
    };

    public ProducerConfig ProducerConfig() => new()
    {
        BootstrapServers = BootstrapServers,
        Acks = Acks.All,
        EnableIdempotence = true,
        LingerMs = 1,
    };

    public void Dispose() => Embedded?.Dispose();
}

public sealed record TestTopics(string Topic, string DeadLetterTopic, string ConsumerGroup, int Partitions);
