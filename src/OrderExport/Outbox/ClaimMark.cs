namespace OrderExport.Outbox;

/// <summary>
/// Where the relay's next claim starts while batches come back full (a backlog), shared by the
/// loops of one instance (ADR 5). A claim from the start walks <c>ix_outbox_unpublished</c> over
/// the other loops' locked batches and over the entries of rows just published, which no claim may
/// skip as dead while another loop's transaction is open: up to 3,000 rows visited for 1,000 taken.
/// So a claim resumes after the highest id claimed. Rows below it that become claimable (an order's
/// next event once its earlier one is published, rows committed late, released by a failed round,
/// due after a backoff, held by another instance) are found by a claim from the start, which the
/// relay makes at least every PollInterval; when that claim comes back full below the mark, the
/// claims after it go on from where it stopped until they reach the mark, so every row below the
/// mark is seen once per sweep, oldest first. The mark only decides where a claim starts: the
/// claim's head check still sees every unpublished row of an order, so no order's events can leave
/// out of sequence whatever it says.
/// </summary>
public sealed class ClaimMark
{
    private long _claimedUpTo;
    private long _revisitAfter = long.MaxValue;

    /// <summary>The id to claim after when resuming. Takes the pending revisit, if any.</summary>
    public long ResumeAfter()
    {
        var revisit = Interlocked.Exchange(ref _revisitAfter, long.MaxValue);
        return Math.Min(revisit, Interlocked.Read(ref _claimedUpTo));
    }

    /// <summary>A claim took rows up to <paramref name="highest"/>; <paramref name="full"/> if it hit its limit.</summary>
    public void Claimed(long highest, bool full)
    {
        var before = Replace(ref _claimedUpTo, highest, raise: true);
        if (full && highest < before)
        {
            // Claimable rows may be left between this batch and the mark: the next claim goes on from here.
            Replace(ref _revisitAfter, highest, raise: false);
        }
    }

    /// <summary>
    /// Sets <paramref name="location"/> to <paramref name="value"/> if that raises it (or, with
    /// <paramref name="raise"/> false, lowers it), atomically; returns the value before.
    /// </summary>
    private static long Replace(ref long location, long value, bool raise)
    {
        var seen = Interlocked.Read(ref location);
        while (raise ? seen < value : value < seen)
        {
            var actual = Interlocked.CompareExchange(ref location, value, seen);
            if (actual == seen)
            {
                break;
            }

            seen = actual;
        }

        return seen;
    }
}
