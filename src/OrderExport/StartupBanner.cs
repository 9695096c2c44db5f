using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Persistence;

namespace OrderExport;

/// <summary>Says, once the server listens, where it listens and which engines it runs on.</summary>
internal sealed partial class StartupBanner(
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<DatabaseOptions> database,
    IOptions<KafkaOptions> kafka,
    KafkaConnection connection,
    ILogger<StartupBanner> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var embedded = connection.IsEmbedded && database.Value.Provider == DatabaseProvider.Sqlite;
            LogReady(
                string.Join(", ", addresses),
                embedded ? "EMBEDDED DEFAULTS (SQLite file + in-process Kafka broker; development only)" : "configured engines",
                database.Value.Provider,
                connection.BootstrapServers,
                kafka.Value.Topic);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "OrderExport listening on {Addresses}; running on {Mode}: database {Provider}, Kafka {BootstrapServers}, topic {Topic}")]
    private partial void LogReady(string addresses, string mode, DatabaseProvider provider, string bootstrapServers, string topic);
}
