using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Messaging;

/// <summary>The relay connects its producer when it starts, not on the first batch after a start.</summary>
public sealed class ProducerConnectTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task Relay_ConnectsTheProducerAtStart_BeforeAnyEventIsWritten()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var topics = await broker.CreateTopicsAsync(partitions: 3);
        await using var app = new OrderExportApp(broker, topics, DatabaseProvider.Sqlite, database.ConnectionString,
            new Dictionary<string, string?> { ["Consumer:Enabled"] = "false" });
        app.Start();

        await Eventually.True(() => Task.FromResult(app.Service<KafkaProducer>().Connected), because: "the relay connected its producer");
    }

    [Fact]
    public void Connect_FailsWithinItsBound_WhenNoBrokerAnswers()
    {
        // Port 1 on loopback: nothing listens, so every connection attempt is refused.
        var options = Options.Create(new KafkaOptions { BootstrapServers = "127.0.0.1:1" });
        using var connection = new KafkaConnection(options, NullLogger<KafkaConnection>.Instance);
        using var producer = new KafkaProducer(connection, options, NullLogger<KafkaProducer>.Instance);

        var clock = Stopwatch.StartNew();
        Should.Throw<KafkaException>(() => producer.Connect("order-export", TimeSpan.FromSeconds(2)));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        producer.Connected.ShouldBeFalse();
    }
}
