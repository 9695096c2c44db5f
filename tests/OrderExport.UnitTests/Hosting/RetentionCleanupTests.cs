using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrderExport.Hosting;

namespace OrderExport.UnitTests.Hosting;

/// <summary>Retention clean-up deletes what is older than now minus the retention, by the injected clock, in batches.</summary>
public sealed class RetentionCleanupTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Cutoff_IsNowMinusTheRetention_AndMovesWithTheClock()
    {
        var time = new FakeTimeProvider(Now);
        var cleanup = new RecordingCleanup(time, TimeSpan.FromDays(7), deletedPerCall: [0]);

        await cleanup.CleanupAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromHours(1));
        await cleanup.CleanupAsync(TestContext.Current.CancellationToken);

        cleanup.Cutoffs.ShouldBe([new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 23, 13, 0, 0, DateTimeKind.Utc)]);
    }

    [Fact]
    public async Task FullBatches_AreFollowedByAnother_UntilOneComesBackShort()
    {
        var cleanup = new RecordingCleanup(new FakeTimeProvider(Now), TimeSpan.FromDays(1), deletedPerCall: [5_000, 5_000, 12]);

        var deleted = await cleanup.CleanupAsync(TestContext.Current.CancellationToken);

        deleted.ShouldBe(10_012);
        cleanup.Cutoffs.Count.ShouldBe(3);
        cleanup.Cutoffs.Distinct().ShouldHaveSingleItem("one cut-off for the whole run");
    }

    private sealed class RecordingCleanup(TimeProvider time, TimeSpan retention, int[] deletedPerCall)
        : RetentionCleanup(new ServiceCollection().BuildServiceProvider().GetRequiredService<IServiceScopeFactory>(), time, NullLogger.Instance)
    {
        public List<DateTime> Cutoffs { get; } = [];

        protected override TimeSpan Interval => TimeSpan.FromHours(1);

        protected override TimeSpan Retention => retention;

        protected override string Rows => "test rows";

        protected override Task<int> DeleteAsync(IServiceProvider services, DateTime cutoffUtc, int limit, CancellationToken cancellationToken)
        {
            Cutoffs.Add(cutoffUtc);
            return Task.FromResult(deletedPerCall[Math.Min(Cutoffs.Count - 1, deletedPerCall.Length - 1)]);
        }
    }
}
