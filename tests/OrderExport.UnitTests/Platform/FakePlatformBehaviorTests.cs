using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.UnitTests.Platform;

public sealed class FakePlatformBehaviorTests
{
    private static readonly Guid AnyOrder = Guid.NewGuid();

    [Fact]
    public void Decide_ByDefault_AcceptsAtOnce()
    {
        var decision = new FakePlatformBehavior().Decide(AnyOrder);

        decision.Answer.ShouldBe(FakePlatformAnswer.Accept);
        decision.StatusCode.ShouldBe(200);
        decision.Delay.ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public void Decide_ConsumesTheFailNextQueueInOrder_ThenAccepts()
    {
        var behavior = new FakePlatformBehavior();
        behavior.Set(new FakePlatformBehaviorSettings { FailNext = [503, 500] });
        behavior.FailNext(429);

        var statuses = Enumerable.Range(0, 4).Select(_ => behavior.Decide(AnyOrder).StatusCode).ToList();

        statuses.ShouldBe([503, 500, 429, 200]);
        behavior.Current.FailNext.ShouldBeEmpty();
    }

    [Fact]
    public void Current_ShowsWhatIsLeftOfTheQueue()
    {
        var behavior = new FakePlatformBehavior();
        behavior.FailNext(503, 502);
        behavior.TimeoutNext(2);

        behavior.Decide(AnyOrder);
        behavior.Decide(AnyOrder);
        behavior.Decide(AnyOrder);

        behavior.Current.TimeoutNext.ShouldBe(0);
        behavior.Current.FailNext.ShouldBe([502]);
    }

    [Fact]
    public void Decide_TimeoutNext_HangsBeforeAnyQueuedFailure()
    {
        var behavior = new FakePlatformBehavior();
        behavior.FailNext(503);
        behavior.TimeoutNext(1, TimeSpan.FromSeconds(7));

        var hang = behavior.Decide(AnyOrder);

        hang.Answer.ShouldBe(FakePlatformAnswer.Hang);
        hang.Delay.ShouldBe(TimeSpan.FromSeconds(7));
        behavior.Decide(AnyOrder).StatusCode.ShouldBe(503);
    }

    [Fact]
    public void Decide_RejectsListedOrdersWith422_AndAcceptsOthers()
    {
        var rejected = Guid.NewGuid();
        var behavior = new FakePlatformBehavior();
        behavior.Reject(rejected);

        behavior.Decide(rejected).ShouldBe(new FakePlatformDecision(FakePlatformAnswer.Reject, 422, TimeSpan.Zero, null));
        behavior.Decide(rejected).Answer.ShouldBe(FakePlatformAnswer.Reject);
        behavior.Decide(AnyOrder).Answer.ShouldBe(FakePlatformAnswer.Accept);
    }

    [Fact]
    public void Decide_WithFailureRateOne_AlwaysFailsWithTheGivenStatuses()
    {
        var behavior = new FakePlatformBehavior(new Random(42));
        behavior.FailRandomly(1.0, 500, 502);

        var statuses = Enumerable.Range(0, 50).Select(_ => behavior.Decide(AnyOrder)).ToList();

        statuses.ShouldAllBe(d => d.Answer == FakePlatformAnswer.Fail);
        statuses.Select(d => d.StatusCode).Distinct().Order().ShouldBe([500, 502]);
    }

    [Fact]
    public void Decide_WithRetryAfter_AddsItToFailures()
    {
        var behavior = new FakePlatformBehavior();
        behavior.Set(new FakePlatformBehaviorSettings { FailNext = [429], RetryAfterSeconds = 2, DelayMs = 50 });

        var decision = behavior.Decide(AnyOrder);

        decision.ShouldBe(new FakePlatformDecision(FakePlatformAnswer.Fail, 429, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2)));
        behavior.Decide(AnyOrder).RetryAfter.ShouldBeNull();
    }

    [Fact]
    public void Reset_ForgetsEverything()
    {
        var behavior = new FakePlatformBehavior();
        behavior.FailNext(503);
        behavior.Delay(TimeSpan.FromSeconds(1));
        behavior.Reject(AnyOrder);

        behavior.Reset();

        behavior.Current.ShouldBeEquivalentTo(new FakePlatformBehaviorSettings());
        behavior.Decide(AnyOrder).Answer.ShouldBe(FakePlatformAnswer.Accept);
    }

    [Theory]
    [InlineData(-1, 0.0, 500)]
    [InlineData(0, 1.5, 500)]
    [InlineData(0, 0.5, 200)]
    [InlineData(0, 0.5, 600)]
    public void Set_WhenInvalid_ThrowsAndKeepsTheOldBehavior(int delayMs, double failureRate, int failureStatus)
    {
        var behavior = new FakePlatformBehavior();
        behavior.FailNext(503);

        Should.Throw<ArgumentException>(() => behavior.Set(new FakePlatformBehaviorSettings
        {
            DelayMs = delayMs, FailureRate = failureRate, FailureStatuses = [failureStatus],
        }));

        behavior.Current.FailNext.ShouldBe([503]);
    }

    [Fact]
    public void Decide_FromManyThreads_ConsumesEachQueuedFailureOnce()
    {
        var behavior = new FakePlatformBehavior();
        behavior.FailNext([.. Enumerable.Repeat(503, 100)]);

        var decisions = new System.Collections.Concurrent.ConcurrentBag<int>();
        Parallel.For(0, 1000, _ => decisions.Add(behavior.Decide(AnyOrder).StatusCode));

        decisions.Count(s => s == 503).ShouldBe(100);
        decisions.Count(s => s == 200).ShouldBe(900);
    }
}
