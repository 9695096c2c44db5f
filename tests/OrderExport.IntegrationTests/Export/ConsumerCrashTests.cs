using Confluent.Kafka;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging.Embedded;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

public sealed class ConsumerCrashTests
{
    [Fact]
    public async Task ConsumerDyingAfterThePlatformCallBeforeTheOffsetCommit_DoesNotExportTwice()
    {
        using var broker = KafkaTestBroker.StartPrivate();
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var topics = await broker.CreateTopicsAsync();
        // No background commits: the only commit would be the one on shutdown, which we make fail.
        // A crashed member holds its partitions until its session times out: keep that short.
        var noAutoCommit = new Dictionary<string, string?>
        {
            ["Consumer:AutoCommitIntervalMs"] = "60000",
            ["Consumer:SessionTimeoutMs"] = "6000",
        };
        Guid orderId;
        TopicPartitionOffset consumed;

        await using (var first = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString, noAutoCommit))
        {
            var orders = new OrdersClient(first.Start());
            orderId = (await orders.CreateConfirmedAsync()).Id;
            await Eventually.Until(() => orders.GetAsync(orderId), o => o.ExportStatus == ExportStatus.Exported);
            first.Platform.Exported.Count(c => c.OrderId == orderId).ShouldBe(1);
            consumed = await RecordOf(broker, topics, orderId);

            // The "crash": every offset commit from here on fails, including the one on close.
            broker.Embedded!.PushRequestErrors(
                EmbeddedKafkaCluster.ApiKeys.OffsetCommit, Enumerable.Repeat(ErrorCode.GroupAuthorizationFailed, 50).ToArray());
        }

        broker.Embedded!.ClearRequestErrors(EmbeddedKafkaCluster.ApiKeys.OffsetCommit);
        CommittedOffset(broker, topics, consumed).ShouldBe(Offset.Unset, "the first consumer died without committing");

        // Second life: the record is delivered again; the inbox knows it was exported.
        await using var second = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString);
        second.Start();
        await Eventually.Until(
            () => Task.FromResult(CommittedOffset(broker, topics, consumed)),
            offset => offset.Value == consumed.Offset.Value + 1,
            TimeSpan.FromSeconds(30), "the redelivered record was handled and committed");
        second.Platform.Received.ShouldBeEmpty("the redelivery is a duplicate: no second platform call");
    }

    private static async Task<TopicPartitionOffset> RecordOf(KafkaTestBroker broker, TestTopics topics, Guid orderId)
    {
        using var reader = new TopicReader(broker, topics.Topic, topics.Partitions);
        var record = (await reader.WaitForAsync(1)).Single(r => r.Key == orderId.ToString());
        return new TopicPartitionOffset(topics.Topic, record.Partition, record.Offset);
    }

    private static Offset CommittedOffset(KafkaTestBroker broker, TestTopics topics, TopicPartitionOffset record)
    {
        using var probe = new ConsumerBuilder<byte[], byte[]>(broker.ConsumerConfig(topics.ConsumerGroup)).Build();
        return probe.Committed([record.TopicPartition], TimeSpan.FromSeconds(10)).Single().Offset;
    }
}
