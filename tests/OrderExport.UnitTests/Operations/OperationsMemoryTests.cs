using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OrderExport.Export;
using OrderExport.Operations;
using OrderExport.Telemetry;

namespace OrderExport.UnitTests.Operations;

/// <summary>What the operations page keeps in memory stays bounded and says what it counted.</summary>
public sealed class OperationsMemoryTests
{
    [Fact]
    public void TheRateHistory_CountsEachSecondsGain_AndKeepsTheLastFiveMinutesOldestFirst()
    {
        var (services, metrics, time) = Arrange();
        using var _ = services;
        var rates = new PipelineRates(metrics, time);

        metrics.OrderConfirmed();
        metrics.OrderConfirmed();
        metrics.Handled("exported");
        metrics.Handled("duplicate");
        rates.Sample();
        metrics.Handled("replayed");
        time.Advance(TimeSpan.FromSeconds(1));
        rates.Sample();

        rates.History().Select(r => (r.Confirmed, r.Exported)).ShouldBe([(2L, 1L), (0L, 1L)]);

        for (var i = 0; i < PipelineRates.Capacity + 10; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            rates.Sample();
        }

        var history = rates.History();
        history.Count.ShouldBe(PipelineRates.Capacity);
        history.Select(r => r.At).ShouldBeInOrder();
        history[^1].At.ShouldBe(time.GetUtcNow());
    }

    [Fact]
    public void TheAttemptLog_KeepsTheLatestAttemptsOfTheLatestOrders()
    {
        var (services, metrics, time) = Arrange();
        using var _ = services;
        var log = new OrderActivityLog(metrics, new ConsumerProgress(time, metrics), time);
        var first = Guid.NewGuid();

        for (var attempt = 1; attempt <= OrderActivityLog.MaxPerOrder + 5; attempt++)
        {
            metrics.PlatformAttemptObserved!(Attempt(first, attempt));
        }

        log.Attempts(first).Select(a => a.Attempt).ShouldBe(Enumerable.Range(6, OrderActivityLog.MaxPerOrder));

        for (var i = 0; i < OrderActivityLog.MaxOrders; i++)
        {
            metrics.PlatformAttemptObserved!(Attempt(Guid.NewGuid(), 1));
        }

        log.Attempts(first).ShouldBeEmpty("the oldest order is forgotten first");
    }

    [Fact]
    public void TheFetchLog_KnowsWhereAnOrdersRecordsWere_AndIgnoresOtherKeys()
    {
        var (services, metrics, time) = Arrange();
        using var _ = services;
        var consumer = new ConsumerProgress(time, metrics);
        var log = new OrderActivityLog(metrics, consumer, time);
        var order = Guid.NewGuid();

        consumer.For(1).Fetched(4, Encoding.UTF8.GetBytes(order.ToString()));
        consumer.For(1).Fetched(5, Encoding.UTF8.GetBytes(order + "-suffix"));
        consumer.For(2).Fetched(6, null);

        log.Fetched(order).ShouldHaveSingleItem().ShouldBe(new FetchedRecord(1, 4, time.GetUtcNow()));
    }

    [Theory]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736")]
    [InlineData(null, null)]
    [InlineData("garbage", null)]
    public void TheTraceId_IsTheTraceparentsSecondField(string? traceParent, string? traceId) =>
        OrderJourney.TraceId(traceParent).ShouldBe(traceId);

    private static (ServiceProvider Services, OrderExportMetrics Metrics, FakeTimeProvider Time) Arrange()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return (services, new OrderExportMetrics(services.GetRequiredService<IMeterFactory>()),
            new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero)));
    }

    private static PlatformAttemptRecord Attempt(Guid orderId, int attempt) =>
        new(orderId, Guid.NewGuid(), attempt, "503", TimeSpan.FromMilliseconds(5), DateTimeOffset.UnixEpoch, null);
}
