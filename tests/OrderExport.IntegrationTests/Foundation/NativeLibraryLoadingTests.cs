using Confluent.Kafka;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Messaging.Embedded;

namespace OrderExport.IntegrationTests.Foundation;

/// <summary>
/// The embedded broker starts through <see cref="LibrdkafkaLibrary"/> when the package's
/// default librdkafka build cannot load (as on Debian, which lacks its libsasl2.so.3). The
/// default build is replaced by a file that cannot load, so this holds on any machine.
/// </summary>
public sealed class NativeLibraryLoadingTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("librdkafka-fallback-");

    [Fact]
    public async Task EmbeddedBroker_StartsFromTheNextVariant_WhenTheDefaultBuildCannotLoad()
    {
        var ct = TestContext.Current.CancellationToken;
        var platform = LibrdkafkaVariants.ForCurrentProcess();
        var packaged = Path.Combine(AppContext.BaseDirectory, "runtimes", platform.RuntimeFolder, "native");
        var native = Directory.CreateDirectory(Path.Combine(_folder.FullName, "runtimes", platform.RuntimeFolder, "native")).FullName;
        File.WriteAllText(Path.Combine(native, platform.FileNames[0]), "not a shared object");
        // The next variant in the package's folder where there is one (linux-x64: centos8);
        // else (linux-arm64) the same build in the application folder, the second place searched.
        var (fallbackName, fallbackFolder) = platform.FileNames.Count > 1
            ? (platform.FileNames[1], native)
            : (platform.FileNames[0], _folder.FullName);
        File.Copy(Path.Combine(packaged, fallbackName), Path.Combine(fallbackFolder, fallbackName));

        var library = LibrdkafkaLibrary.LoadFrom(_folder.FullName);
        using var cluster = EmbeddedKafkaCluster.Start(library: library);
        cluster.CreateTopic("fallback", 1);

        library.Path.ShouldBe(Path.Combine(fallbackFolder, fallbackName));
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var delivered = await producer.ProduceAsync("fallback", new Message<string, string> { Key = "order-1", Value = "v" }, ct);
        delivered.Status.ShouldBe(PersistenceStatus.Persisted);
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "fallback",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("fallback");
        var consumed = await Eventually.Until(
            () => Task.FromResult(consumer.Consume(TimeSpan.FromMilliseconds(100))), r => r?.Message is not null);
        consumed.Message.Key.ShouldBe("order-1");
        consumer.Close();
    }

    public void Dispose()
    {
        // The loaded copy stays mapped until the process ends; deleting its file is harmless.
        _folder.Delete(recursive: true);
    }
}
