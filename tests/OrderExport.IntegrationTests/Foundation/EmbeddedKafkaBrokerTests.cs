using Confluent.Kafka;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging.Embedded;

namespace OrderExport.IntegrationTests.Foundation;

/// <summary>The test broker is a real Kafka-protocol broker: real produce, group consume, commit.</summary>
public sealed class EmbeddedKafkaBrokerTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task ProducedRecord_IsConsumedByGroup_AndItsOffsetCommitted()
    {
        var ct = TestContext.Current.CancellationToken;
        var topics = await broker.CreateTopicsAsync(partitions: 3);
        using var producer = new ProducerBuilder<string, string>(broker.ProducerConfig()).Build();
        var delivered = await producer.ProduceAsync(topics.Topic, new Message<string, string> { Key = "order-1", Value = "hello" }, ct);
        delivered.Status.ShouldBe(PersistenceStatus.Persisted);

        using var consumer = new ConsumerBuilder<string, string>(broker.ConsumerConfig(topics.ConsumerGroup)).Build();
        consumer.Subscribe(topics.Topic);
        var consumed = await Eventually.Until(
            () => Task.FromResult(consumer.Consume(TimeSpan.FromMilliseconds(100))), r => r?.Message is not null);
        consumed.Message.Key.ShouldBe("order-1");
        consumed.Message.Value.ShouldBe("hello");
        consumed.TopicPartitionOffset.ShouldBe(delivered.TopicPartitionOffset);

        consumer.Commit(consumed);
        var committed = consumer.Committed([consumed.TopicPartition], TimeSpan.FromSeconds(10));
        committed.ShouldHaveSingleItem().Offset.Value.ShouldBe(consumed.Offset.Value + 1);
        consumer.Close();
    }

    [Fact]
    public async Task Topics_HaveTheRequestedPartitions()
    {
        var topics = await broker.CreateTopicsAsync(partitions: 3);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();

        var metadata = admin.GetMetadata(topics.Topic, TimeSpan.FromSeconds(10));

        metadata.Topics.ShouldHaveSingleItem().Partitions.Count.ShouldBe(3);
    }

    [Fact]
    public async Task BrokerDown_HoldsProduceUntilBrokerUp()
    {
        // A private cluster: taking the shared one down would disturb parallel tests.
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("held", 1);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            MessageTimeoutMs = 60_000,
        }).Build();
        (await producer.ProduceAsync("held", new Message<string, string> { Key = "k", Value = "before" }, TestContext.Current.CancellationToken))
            .Status.ShouldBe(PersistenceStatus.Persisted);

        cluster.BrokerDown(1);
        var held = producer.ProduceAsync("held", new Message<string, string> { Key = "k", Value = "during" }, TestContext.Current.CancellationToken);
        // A negative check needs a window: the produce must still be pending a second later.
        var first = await Task.WhenAny(held, Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken));
        first.ShouldNotBe(held, "the produce must wait while the broker is down");

        cluster.BrokerUp(1);
        var result = await held.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        result.Status.ShouldBe(PersistenceStatus.Persisted);
    }

    [Fact]
    public async Task PushedRequestErrors_FailProduceWithThatError()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("errors", 1);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            Acks = Acks.All,
            MessageSendMaxRetries = 0,
        }).Build();
        await producer.ProduceAsync("errors", new Message<string, string> { Key = "k", Value = "warm-up" }, TestContext.Current.CancellationToken);

        cluster.PushRequestErrors(EmbeddedKafkaCluster.ApiKeys.Produce, ErrorCode.TopicAuthorizationFailed);

        var failure = await Should.ThrowAsync<ProduceException<string, string>>(
            () => producer.ProduceAsync("errors", new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken));
        failure.Error.Code.ShouldBe(ErrorCode.TopicAuthorizationFailed);
    }
}
