using OrderExport.Outbox;

namespace OrderExport.UnitTests.Outbox;

/// <summary>Where the relay's claims resume in a backlog (ClaimMark).</summary>
public sealed class ClaimMarkTests
{
    [Fact]
    public void ClaimsResumeAfterTheHighestIdClaimed_ByAnyLoop()
    {
        var mark = new ClaimMark();
        mark.ResumeAfter().ShouldBe(0);

        mark.Claimed(highest: 1000, full: true);
        mark.Claimed(highest: 2000, full: true);
        mark.Claimed(highest: 1500, full: false); // a slower loop's smaller claim does not pull it back

        mark.ResumeAfter().ShouldBe(2000);
    }

    [Fact]
    public void AFullClaimFromBelowTheMark_LeavesTheNextClaimToGoOnWhereItStopped()
    {
        var mark = new ClaimMark();
        mark.Claimed(highest: 5000, full: true);
        mark.ResumeAfter().ShouldBe(5000);

        mark.Claimed(highest: 100, full: true); // a claim from the start, full below the mark
        mark.ResumeAfter().ShouldBe(100);
        mark.Claimed(highest: 1100, full: true);
        mark.ResumeAfter().ShouldBe(1100);
        mark.Claimed(highest: 1800, full: false); // not full: nothing claimable was left behind it
        mark.ResumeAfter().ShouldBe(5000);
    }

    [Fact]
    public void ManyLoops_ClaimingAtOnce_KeepTheHighestMarkAndTheLowestStop()
    {
        var mark = new ClaimMark();
        mark.Claimed(highest: 20_000, full: false);
        Parallel.For(0, 20_000, i => mark.Claimed(highest: 20_000 - i, full: true));

        mark.ResumeAfter().ShouldBe(1, "the lowest stop of the full claims below the mark");
        mark.ResumeAfter().ShouldBe(20_000);
    }
}
