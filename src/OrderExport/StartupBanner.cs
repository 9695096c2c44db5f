using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Persistence;
using OrderExport.Platform;

namespace OrderExport;

/// <summary>Says, once the server listens, where it listens and which engines it runs on.</summary>
internal sealed partial class StartupBanner(
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<DatabaseOptions> database,
    IOptions<KafkaOptions> kafka,
    IOptions<PlatformOptions> platform,
    IHostEnvironment environment,
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
                kafka.Value.Topic,
                platform.Value.UseInProcessFake ? "the in-process FAKE platform" : platform.Value.BaseAddress);
            if (platform.Value.UseInProcessFake && !environment.IsDevelopment())
            {
                // Exports would "succeed" into memory: fine for a demo, never what production wants.
                LogFakePlatform(environment.EnvironmentName);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "OrderExport listening on {Addresses}; running on {Mode}: database {Provider}, Kafka {BootstrapServers}, topic {Topic}, exporting to {Platform}; operations page at /ops")]
    private partial void LogReady(string addresses, string mode, DatabaseProvider provider, string bootstrapServers, string topic, string platform);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Platform:BaseAddress is empty in environment {Environment}: orders are exported to the in-process FAKE platform (memory only; its /platform control routes need the operations key here). Set Platform:BaseAddress for a real platform.")]
    private partial void LogFakePlatform(string environment);
}
