using OrderExport.Export;

namespace OrderExport.UnitTests.Export;

/// <summary>The commit point is always the lowest offset not finished: nothing in flight is ever skipped.</summary>
public sealed class OffsetTrackerTests
{
    [Fact]
    public void OutOfOrderCompletion_MovesTheCommitPointOnlyOverAContiguousPrefix()
    {
        var offsets = new OffsetTracker();
        foreach (var offset in new long[] { 10, 11, 12, 13 })
        {
            offsets.Add(offset);
        }

        offsets.Finish(12).ShouldBeNull("10 is not finished: a crash must restart there");
        offsets.Finish(11).ShouldBeNull();
        offsets.CommitPoint.ShouldBe(10);
        offsets.Finish(10).ShouldBe(13, "10 to 12 are done; 13 is the lowest not finished");
        offsets.Finish(13).ShouldBe(14, "all done: one past the last handed out");
        offsets.Count.ShouldBe(0);
    }

    [Fact]
    public void GapsInTheOffsets_CompactedOrTransactionMarkers_AreNotWaitedFor()
    {
        var offsets = new OffsetTracker();
        offsets.Add(3);
        offsets.Add(7);

        offsets.Finish(3).ShouldBe(7);
        offsets.Finish(7).ShouldBe(8);
    }

    [Fact]
    public void ACrashWithGapsInFlight_RestartsAtTheLowestUnfinished()
    {
        var offsets = new OffsetTracker();
        for (long offset = 0; offset < 6; offset++)
        {
            offsets.Add(offset);
        }

        // 1, 3 and 5 finished; 0, 2 and 4 in flight when the process dies.
        offsets.Finish(1);
        offsets.Finish(3);
        offsets.Finish(5);

        offsets.CommitPoint.ShouldBe(0, "re-delivers 0 to 5; the inbox skips 1, 3 and 5 as duplicates");
        offsets.Count.ShouldBe(3);
    }

    [Fact]
    public void Misuse_Throws()
    {
        var offsets = new OffsetTracker();
        offsets.CommitPoint.ShouldBeNull();
        offsets.Add(5);

        Should.Throw<InvalidOperationException>(() => offsets.Add(4));
        Should.Throw<InvalidOperationException>(() => offsets.Finish(6));
    }
}
