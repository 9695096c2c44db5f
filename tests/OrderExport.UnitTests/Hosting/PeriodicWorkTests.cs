using Microsoft.Extensions.Time.Testing;
using OrderExport.Hosting;

namespace OrderExport.UnitTests.Hosting;

/// <summary>Housekeeping runs at once, then once per interval of the injected clock; a failed run does not stop it.</summary>
public sealed class PeriodicWorkTests
{
    [Fact]
    public async Task RunsAtOnce_ThenOncePerInterval_AndAFailedRunDoesNotStopIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        var ran = new SemaphoreSlim(0);
        var runs = 0;
        var errors = new List<Exception>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var loop = PeriodicWork.RunAsync(TimeSpan.FromMinutes(5), time, _ =>
        {
            var run = Interlocked.Increment(ref runs);
            ran.Release();
            return run == 2 ? throw new InvalidOperationException("second run fails") : Task.CompletedTask;
        }, errors.Add, stop.Token);

        (await ran.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).ShouldBeTrue("the first run is at once");
        time.Advance(TimeSpan.FromMinutes(4));
        (await ran.WaitAsync(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken)).ShouldBeFalse("not before the interval");
        time.Advance(TimeSpan.FromMinutes(1));
        (await ran.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).ShouldBeTrue("the second run, which fails");
        time.Advance(TimeSpan.FromMinutes(5));
        (await ran.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).ShouldBeTrue("a third run after the failure");

        await stop.CancelAsync();
        await loop;
        runs.ShouldBe(3);
        errors.ShouldHaveSingleItem().Message.ShouldBe("second run fails");
    }
}
