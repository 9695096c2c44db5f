using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OrderExport.Export;
using OrderExport.Telemetry;

namespace OrderExport.UnitTests.Export;

/// <summary>
/// What readiness, the gauges and <c>GET /orders/{id}</c> learn from the consumer's progress, on a
/// <see cref="FakeTimeProvider"/>: a stall is work waiting with nothing finished for longer than the limit.
/// </summary>
public sealed class ConsumerProgressTests
{
    private static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(30);

    [Fact]
    public void AnIdlePartition_NeverStalls_HoweverLongItWaits()
    {
        var (progress, time, _) = Arrange();
        progress.Assigned(0);

        time.Advance(TimeSpan.FromHours(1));

        var partition = progress.Snapshot().ShouldHaveSingleItem();
        partition.Unfinished.ShouldBe(0);
        partition.SinceProgress.ShouldBe(TimeSpan.Zero);
        progress.Stalled(StallAfter).ShouldBeEmpty();
    }

    [Fact]
    public void WorkThatFinishesNothing_StallsAfterTheLimit_NotBefore_AndFinishingClearsIt()
    {
        var (progress, time, _) = Arrange();
        var partition = progress.Assigned(1);
        time.Advance(TimeSpan.FromMinutes(10)); // idle time before the work came does not count
        partition.Fetched(7, Key(OrderA));
        partition.Fetched(8, Key(OrderB));
        partition.Failed(7, new TimeoutException("database timeout"));

        time.Advance(StallAfter);
        progress.Stalled(StallAfter).ShouldBeEmpty("exactly at the limit is not past it");
        time.Advance(TimeSpan.FromSeconds(1));

        var stalled = progress.Stalled(StallAfter).ShouldHaveSingleItem();
        stalled.OldestUnfinished.ShouldBe(new UnfinishedRecord(7, OrderA.ToString(), StallAfter + TimeSpan.FromSeconds(1)));
        stalled.Describe(StallAfter).ShouldBe(
            $"partition 1 finished nothing for 31 s (limit 30 s): stuck at offset 7 (order {OrderA}), 2 record(s) waiting, "
            + "retried 1 times, last: TimeoutException: database timeout");

        partition.Finished(7);
        var moved = progress.Snapshot().ShouldHaveSingleItem();
        moved.IsStalled(StallAfter).ShouldBeFalse();
        moved.Retries.ShouldBe(0);
        moved.OldestUnfinished!.Offset.ShouldBe(8);
    }

    [Fact]
    public void SteadyProgress_IsNoStall_EvenWhenTheQueueNeverEmpties()
    {
        var (progress, time, _) = Arrange();
        var partition = progress.Assigned(0);
        for (long offset = 0; offset < 100; offset++)
        {
            partition.Fetched(offset + 1, Key(OrderA));
            time.Advance(TimeSpan.FromSeconds(10));
            partition.Finished(offset);
        }

        progress.Stalled(StallAfter).ShouldBeEmpty();
    }

    [Fact]
    public void Lag_IsTheEndMinusTheNextOffsetToFinish()
    {
        var (progress, _, _) = Arrange();
        var partition = progress.Assigned(2);
        progress.Snapshot().Single().Lag.ShouldBeNull("nothing known yet");
        partition.NeedsCommitted.ShouldBeTrue();

        partition.Observe(highWatermark: 40, committed: 40);
        progress.Snapshot().Single().Lag.ShouldBe(0, "caught up where the group left it");

        partition.Fetched(40, Key(OrderA));
        partition.Fetched(41, Key(OrderB));
        partition.Observe(highWatermark: 45, committed: -1001);
        progress.Snapshot().Single().Lag.ShouldBe(5, "offsets 40 to 44 are not finished");

        partition.Finished(40);
        progress.Snapshot().Single().Lag.ShouldBe(4);
        partition.NeedsCommitted.ShouldBeFalse();
    }

    [Fact]
    public void ExplainWait_SaysWhereTheOrderWaits_AndNothingWhenItDoesNotKnow()
    {
        var (progress, time, _) = Arrange();
        var partition = progress.Assigned(1);
        partition.Fetched(0, Key(OrderA));
        partition.Fetched(5, Key(OrderB));
        partition.Started(0);
        for (var i = 0; i < 14; i++)
        {
            partition.Failed(0, new IOException("broken pipe"));
        }

        time.Advance(TimeSpan.FromSeconds(45));

        progress.ExplainWait(OrderB, StallAfter).ShouldBe(
            $"Published to partition 1 @ offset 5; the partition is stuck at offset 0 (order {OrderA}) for 45 s; "
            + "record retried 14 times, last: IOException: broken pipe");
        progress.ExplainWait(OrderB, TimeSpan.FromMinutes(5)).ShouldNotBeNull().ShouldContain("the partition is working at offset 0");
        progress.ExplainWait(OrderA, StallAfter).ShouldNotBeNull().ShouldStartWith("Published to partition 1 @ offset 0; being exported for 45 s");
        progress.ExplainWait(Guid.CreateVersion7(), StallAfter).ShouldBeNull("not fetched here: the service does not know");

        partition.Finished(5);
        progress.ExplainWait(OrderB, StallAfter).ShouldBeNull("finished");
    }

    [Fact]
    public void AnOrderInHand_IsExplainedByItsOwnRecord_NotByAnotherOrdersFailures()
    {
        // Orders side by side: A is stuck at the partition's head, B is in hand in its own lane.
        var (progress, time, _) = Arrange();
        var partition = progress.Assigned(0);
        partition.Fetched(0, Key(OrderA));
        partition.Fetched(1, Key(OrderB));
        partition.Started(0);
        partition.Failed(0, new IOException("broken pipe"));
        time.Advance(TimeSpan.FromSeconds(10));
        partition.Started(1);
        partition.Failed(1, new TimeoutException("platform timeout"));
        time.Advance(TimeSpan.FromSeconds(3));

        progress.ExplainWait(OrderB, StallAfter).ShouldBe(
            "Published to partition 0 @ offset 1; being exported for 3 s; record retried 1 times, last: TimeoutException: platform timeout");
    }

    [Fact]
    public void ARevokedPartition_IsForgotten()
    {
        var (progress, time, _) = Arrange();
        progress.Assigned(0).Fetched(0, Key(OrderA));
        time.Advance(TimeSpan.FromMinutes(5));

        progress.Revoked(0);

        progress.Snapshot().ShouldBeEmpty();
        progress.ExplainWait(OrderA, StallAfter).ShouldBeNull();
    }

    [Fact]
    public void TheGauges_ReportEachAssignedPartition()
    {
        var (progress, time, services) = Arrange();
        var partition = progress.Assigned(1);
        partition.Fetched(3, Key(OrderA));
        partition.Observe(highWatermark: 10, committed: -1001);
        time.Advance(TimeSpan.FromSeconds(12));
        var measured = new Dictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == services.GetRequiredService<IMeterFactory>() && instrument.Name.StartsWith("orderexport.consumer.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measured[$"{i.Name}[{tags[0].Value}]"] = v);
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measured[$"{i.Name}[{tags[0].Value}]"] = v);
        listener.Start();

        listener.RecordObservableInstruments();

        measured["orderexport.consumer.lag[1]"].ShouldBe(7);
        measured["orderexport.consumer.oldest_unfinished_age[1]"].ShouldBe(12);
        measured["orderexport.consumer.time_since_progress[1]"].ShouldBe(12);
    }

    private static readonly Guid OrderA = Guid.Parse("0195f1e0-0000-7000-8000-00000000000a");
    private static readonly Guid OrderB = Guid.Parse("0195f1e0-0000-7000-8000-00000000000b");

    private static byte[] Key(Guid orderId) => Encoding.UTF8.GetBytes(orderId.ToString());

    private static (ConsumerProgress Progress, FakeTimeProvider Time, ServiceProvider Services) Arrange()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddMetrics().AddSingleton<OrderExportMetrics>().BuildServiceProvider();
        return (new ConsumerProgress(time, services.GetRequiredService<OrderExportMetrics>()), time, services);
    }
}
