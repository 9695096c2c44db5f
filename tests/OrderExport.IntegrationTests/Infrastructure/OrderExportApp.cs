using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// One running instance of the real service (its real Program, hosted in memory), wired to the
/// test's database and to the shared test broker with the test's own topics. Several instances
/// may share one database to play several replicas.
/// </summary>
public sealed class OrderExportApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public OrderExportApp(KafkaTestBroker broker, TestTopics topics, DatabaseProvider provider, string connectionString,
        IDictionary<string, string?>? overrides = null)
    {
        Topics = topics;
        _settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["Database:ConnectionString"] = connectionString,
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:Topic"] = topics.Topic,
            ["Kafka:DeadLetterTopic"] = topics.DeadLetterTopic,
            ["Kafka:ConsumerGroup"] = topics.ConsumerGroup,
            ["Kafka:Partitions"] = topics.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka:Producer:LingerMs"] = "1",
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["Outbox:RetryInitialDelay"] = "00:00:00.100",
            ["Outbox:RetryMaxDelay"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public TestTopics Topics { get; }

    /// <summary>Starts the host now (migrations run, hosted services start) and returns a client.</summary>
    public HttpClient Start() => CreateClient();

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A fresh DbContext on the app's database, for arranging and asserting.</summary>
    public async Task<T> WithDb<T>(Func<OrderExportDbContext, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<OrderExportDbContext>());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
    }
}
