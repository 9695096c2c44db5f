using OrderExport.Export;
using OrderExport.Platform;

namespace OrderExport.UnitTests.Export;

/// <summary>A dead letter changes state only through its own methods, each checking where it starts from.</summary>
public sealed class DeadLetterTests
{
    private static readonly DateTime Failed = new(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Now = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Discard_WhenUnresolved_DiscardsAndBumpsTheVersion()
    {
        var deadLetter = NewDeadLetter();

        deadLetter.Discard(Now).ShouldBeTrue();

        deadLetter.Status.ShouldBe(DeadLetterStatus.Discarded);
        deadLetter.ResolvedAtUtc.ShouldBe(Now);
        deadLetter.Version.ShouldBe(1);
    }

    [Fact]
    public void Discard_WhenAlreadyDiscarded_ChangesNothing()
    {
        var deadLetter = NewDeadLetter();
        deadLetter.Discard(Now);

        deadLetter.Discard(Now.AddMinutes(5)).ShouldBeFalse();

        deadLetter.ResolvedAtUtc.ShouldBe(Now);
        deadLetter.Version.ShouldBe(1);
    }

    [Fact]
    public void Discard_WhenReplayed_IsRefused()
    {
        var deadLetter = NewDeadLetter();
        deadLetter.MarkReplayed(Now);

        Should.Throw<DeadLetterResolvedException>(() => deadLetter.Discard(Now)).Message.ShouldBe("Dead letter 7 is Replayed.");

        deadLetter.Status.ShouldBe(DeadLetterStatus.Replayed);
        deadLetter.Version.ShouldBe(1);
    }

    [Fact]
    public void MarkReplayed_WhenUnresolved_ReplaysAndBumpsTheVersion()
    {
        var deadLetter = NewDeadLetter();

        deadLetter.MarkReplayed(Now);

        deadLetter.Status.ShouldBe(DeadLetterStatus.Replayed);
        deadLetter.ResolvedAtUtc.ShouldBe(Now);
        deadLetter.Version.ShouldBe(1);
    }

    [Fact]
    public void MarkReplayed_WhenDiscardedMeanwhile_StillRecordsTheExport()
    {
        var deadLetter = NewDeadLetter();
        deadLetter.Discard(Now);

        deadLetter.MarkReplayed(Now.AddSeconds(1));

        deadLetter.Status.ShouldBe(DeadLetterStatus.Replayed);
        deadLetter.Version.ShouldBe(2);
    }

    [Fact]
    public void MarkReplayed_WhenAlreadyReplayed_ChangesNothing()
    {
        var deadLetter = NewDeadLetter();
        deadLetter.MarkReplayed(Now).ShouldBeTrue();

        deadLetter.MarkReplayed(Now.AddSeconds(1)).ShouldBeFalse("two replays that raced export once and resolve once");
        deadLetter.Version.ShouldBe(1);
        deadLetter.ResolvedAtUtc.ShouldBe(Now);
    }

    [Fact]
    public void RecordFailedReplay_AddsTheAttempts_TakesTheLatestFailure_AndStaysUnresolved()
    {
        var deadLetter = NewDeadLetter();

        deadLetter.RecordFailedReplay(new PlatformResult
        {
            Outcome = PlatformOutcome.PermanentFailure, Attempts = 1, StatusCode = 422, Reason = "Order rejected", LastFailureAt = Now,
        }, Now);

        deadLetter.Status.ShouldBe(DeadLetterStatus.Unresolved);
        deadLetter.Attempts.ShouldBe(5);
        deadLetter.LastFailureAtUtc.ShouldBe(Now);
        deadLetter.ErrorType.ShouldBe("PlatformRejected");
        deadLetter.ErrorMessage.ShouldBe("Order rejected");
        deadLetter.Version.ShouldBe(1);
    }

    [Fact]
    public void RecordFailedReplay_WhenReplayedMeanwhile_ChangesNothing()
    {
        var deadLetter = NewDeadLetter();
        deadLetter.MarkReplayed(Now);

        deadLetter.RecordFailedReplay(
            new PlatformResult { Outcome = PlatformOutcome.TransientExhausted, Attempts = 4 }, Now).ShouldBeFalse();
        deadLetter.Attempts.ShouldBe(4);
        deadLetter.Status.ShouldBe(DeadLetterStatus.Replayed);
        deadLetter.Version.ShouldBe(1);
    }

    [Fact]
    public void For_AFailedRecord_KeepsItsBytesAndTheFailure_SoAReplaySendsTheSameRecord()
    {
        var record = new IncomingRecord("order-export", 2, 41, "order-1"u8.ToArray(), [0x00, 0x01, 0xFF], []);
        var result = new PlatformResult
        {
            Outcome = PlatformOutcome.PermanentFailure,
            StatusCode = 422,
            Attempts = 1,
            Reason = "422: amount must be positive",
            FirstFailureAt = Failed,
            LastFailureAt = Failed.AddSeconds(3),
        };

        var deadLetter = DeadLetter.For(record, Guid.CreateVersion7(), Guid.CreateVersion7(), result, Now);

        deadLetter.Status.ShouldBe(DeadLetterStatus.Unresolved);
        deadLetter.Version.ShouldBe(0);
        deadLetter.ErrorType.ShouldBe("PlatformRejected");
        deadLetter.ErrorMessage.ShouldBe("422: amount must be positive");
        deadLetter.FirstFailureAtUtc.ShouldBe(Failed);
        deadLetter.LastFailureAtUtc.ShouldBe(Failed.AddSeconds(3));
        deadLetter.CreatedAtUtc.ShouldBe(Now);
        deadLetter.Payload.ShouldStartWith("base64:");
        var stored = deadLetter.StoredRecord();
        (stored.Topic, stored.Partition, stored.Offset).ShouldBe(("order-export", 2, 41L));
        stored.Key.ShouldBe(record.Key);
        stored.Value.ShouldBe(record.Value);
    }

    [Fact]
    public void For_ARecordThatNeverReachedThePlatform_FailedNow_AndKeepsNoKeyItDidNotHave()
    {
        var record = new IncomingRecord("order-export", 0, 7, null, "not json"u8.ToArray(), []);
        var result = new PlatformResult { Outcome = PlatformOutcome.PermanentFailure, Attempts = 0, Reason = "MalformedJson: not json" };

        var deadLetter = DeadLetter.For(record, null, null, result, Now);

        deadLetter.MessageKey.ShouldBeNull();
        deadLetter.ErrorType.ShouldBe("MalformedJson");
        deadLetter.Attempts.ShouldBe(0);
        deadLetter.FirstFailureAtUtc.ShouldBe(Now);
        deadLetter.LastFailureAtUtc.ShouldBe(Now);
        deadLetter.Payload.ShouldBe("not json");
    }

    private static DeadLetter NewDeadLetter() => new()
    {
        Id = 7,
        OrderId = Guid.CreateVersion7(),
        Topic = "order-export",
        ErrorType = "PlatformUnavailable",
        ErrorMessage = "503",
        Attempts = 4,
        FirstFailureAtUtc = Failed,
        LastFailureAtUtc = Failed,
        Payload = "{}",
    };
}
