using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.UnitTests.Platform;

public sealed class FakePlatformRecorderTests
{
    private readonly FakePlatformRecorder _recorder = new(TimeProvider.System);

    [Fact]
    public void Accept_WhenKeyIsNew_RecordsAnExport()
    {
        var request = PlatformClientHarness.NewRequest();

        var acceptance = _recorder.Accept(request, "{}");

        acceptance.EventId.ShouldBe(request.EventId);
        acceptance.OrderId.ShouldBe(request.OrderId);
        var received = _recorder.Received.ShouldHaveSingleItem();
        received.ShouldBe(received with { Number = 1, EventId = request.EventId, OrderId = request.OrderId, Sequence = 1, Body = "{}", StatusCode = 200, Duplicate = false });
        _recorder.Exported.ShouldHaveSingleItem();
        _recorder.DuplicateCount.ShouldBe(0);
    }

    [Fact]
    public void Accept_WhenKeyWasAccepted_CountsADuplicateAndGivesTheSameAnswer()
    {
        var request = PlatformClientHarness.NewRequest();

        var first = _recorder.Accept(request, "{}");
        var second = _recorder.Accept(request, "{}");

        second.ShouldBe(first);
        _recorder.Received.Select(r => r.Duplicate).ShouldBe([false, true]);
        _recorder.DuplicateCount.ShouldBe(1);
        _recorder.CountFor(request.EventId).ShouldBe(2);
        _recorder.Exported.ShouldHaveSingleItem();
    }

    [Fact]
    public void Accept_AfterFailedAttempts_IsNotADuplicate()
    {
        var request = PlatformClientHarness.NewRequest();

        _recorder.RecordFailure(request, "{}", 503);
        _recorder.RecordFailure(request, "{}", null);
        _recorder.Accept(request, "{}");

        _recorder.Received.Select(r => r.StatusCode).ShouldBe([503, null, 200]);
        _recorder.DuplicateCount.ShouldBe(0);
        _recorder.CountFor(request.EventId).ShouldBe(3);
        _recorder.Exported.ShouldHaveSingleItem().Number.ShouldBe(3);
    }

    [Fact]
    public void ForOrder_ListsEveryEventOfThatOrderInArrivalOrder()
    {
        var first = PlatformClientHarness.NewRequest();
        var second = first with { EventId = Guid.NewGuid(), Sequence = 2 };

        _recorder.Accept(first, "{}");
        _recorder.Accept(PlatformClientHarness.NewRequest(), "{}");
        _recorder.Accept(second, "{}");

        _recorder.ForOrder(first.OrderId).Select(r => r.Sequence).ShouldBe([1, 2]);
    }

    [Fact]
    public void Reset_ForgetsRequestsAndKeptAnswers()
    {
        var request = PlatformClientHarness.NewRequest();
        _recorder.Accept(request, "{}");

        _recorder.Reset();
        _recorder.Accept(request, "{}");

        _recorder.Received.ShouldHaveSingleItem().Duplicate.ShouldBeFalse();
    }

    [Fact]
    public void Accept_FromManyThreads_KeepsOneExportPerKey()
    {
        var requests = Enumerable.Range(0, 50).Select(_ => PlatformClientHarness.NewRequest()).ToList();

        Parallel.For(0, 500, i => _recorder.Accept(requests[i % requests.Count], "{}"));

        _recorder.Received.Count.ShouldBe(500);
        _recorder.Exported.Count.ShouldBe(50);
        _recorder.DuplicateCount.ShouldBe(450);
        _recorder.Received.Select(r => r.Number).ShouldBe(Enumerable.Range(1, 500));
    }

    [Fact]
    public void PastItsCapacity_ForgetsTheOldestRequestsAndKeys_SoMemoryStaysBounded()
    {
        var first = PlatformClientHarness.NewRequest();
        _recorder.Accept(first, "{}");
        for (var i = 0; i < FakePlatformRecorder.Capacity + 10; i++)
        {
            _recorder.Accept(PlatformClientHarness.NewRequest(), "{}");
        }

        var received = _recorder.Received;
        received.Count.ShouldBeLessThanOrEqualTo(FakePlatformRecorder.Capacity);
        received[^1].Number.ShouldBe(FakePlatformRecorder.Capacity + 11, "numbers keep counting");
        received.ShouldNotContain(r => r.EventId == first.EventId);
        _recorder.Accept(first, "{}");
        _recorder.Received[^1].Duplicate.ShouldBeFalse("its key fell out of the idempotency window");
    }
}
