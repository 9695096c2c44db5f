using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrderExport.Platform;

namespace OrderExport.UnitTests.Platform;

public sealed class PlatformOptionsTests
{
    [Fact]
    public void Defaults_AreValidAndUseTheInProcessFake()
    {
        var options = Resolve([]);

        options.UseInProcessFake.ShouldBeTrue();
        options.AttemptTimeout.ShouldBe(TimeSpan.FromSeconds(2));
        options.MaxRetries.ShouldBe(3);
        options.TotalTimeout.ShouldBe(TimeSpan.FromSeconds(10));
        // Well within the consumer's max.poll.interval.ms (Kafka's default, 300 s), which an export must not outlast.
        options.TotalTimeout.ShouldBeLessThan(TimeSpan.FromMinutes(5));
        options.CircuitBreaker.MinimumThroughput.ShouldBe(20);
    }

    [Fact]
    public void BaseAddress_WhenSet_IsUsed()
    {
        Resolve(new() { ["Platform:BaseAddress"] = "https://platform.example.com" }).UseInProcessFake.ShouldBeFalse();
    }

    [Theory]
    [InlineData("Platform:BaseAddress", "ftp://platform.example.com")]
    [InlineData("Platform:BaseAddress", "not a uri")]
    [InlineData("Platform:AttemptTimeout", "00:00:00")]
    [InlineData("Platform:TotalTimeout", "00:05:00")]
    [InlineData("Platform:TotalTimeout", "00:00:01")]
    [InlineData("Platform:MaxRetries", "-1")]
    [InlineData("Platform:RetryMaxDelay", "00:00:00.100")]
    [InlineData("Platform:CircuitBreaker:FailureRatio", "1.5")]
    [InlineData("Platform:CircuitBreaker:MinimumThroughput", "1")]
    [InlineData("Platform:CircuitBreaker:BreakDuration", "00:00:00.100")]
    public void Validation_WhenValueIsOutOfRange_FailsLoudly(string key, string value)
    {
        var failure = Should.Throw<OptionsValidationException>(() => Resolve(new() { [key] = value }));

        failure.Message.ShouldContain(key.Split(':')[^1]);
    }

    private static PlatformOptions Resolve(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection().AddLogging().AddOrderExportPlatform(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<PlatformOptions>>().Value;
    }
}
