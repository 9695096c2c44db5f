using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using OrderExport.Platform;

namespace OrderExport.UnitTests.Platform;

/// <summary>The platform client's connection settings, as the service registers them: nothing caps concurrency or reuse.</summary>
public sealed class PlatformConnectionsTests
{
    [Fact]
    public void ThePlatformClient_KeepsOneUncappedPoolForTheProcessLife()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddOrderExportPlatform(new ConfigurationBuilder().AddInMemoryCollection(
                new Dictionary<string, string?> { ["Platform:BaseAddress"] = "https://platform.example.com" }).Build())
            .BuildServiceProvider();
        var factoryOptions = services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(PlatformServiceCollectionExtensions.HttpClientName);

        factoryOptions.HandlerLifetime.ShouldBe(Timeout.InfiniteTimeSpan, "a rotated handler would drop its pooled connections");
        var builder = new Builder(services);
        foreach (var action in factoryOptions.HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        var handler = builder.PrimaryHandler.ShouldBeOfType<SocketsHttpHandler>();
        handler.MaxConnectionsPerServer.ShouldBe(int.MaxValue);
        handler.EnableMultipleHttp2Connections.ShouldBeTrue();
        handler.PooledConnectionLifetime.ShouldBe(TimeSpan.FromMinutes(5), "renewed, so DNS changes are followed");
        handler.PooledConnectionIdleTimeout.ShouldBe(TimeSpan.FromSeconds(50));
        handler.AllowAutoRedirect.ShouldBeTrue("a platform that moved (a 307 or 308) is followed, as before");
    }

    private sealed class Builder(IServiceProvider services) : HttpMessageHandlerBuilder
    {
        public override string? Name { get; set; } = PlatformServiceCollectionExtensions.HttpClientName;

        public override HttpMessageHandler PrimaryHandler { get; set; } = new HttpClientHandler();

        public override IList<DelegatingHandler> AdditionalHandlers { get; } = [];

        public override IServiceProvider Services => services;

        public override HttpMessageHandler Build() => PrimaryHandler;
    }
}
