using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrderExport.Export;
using OrderExport.Messaging;
using OrderExport.Platform;
using OrderExport.Telemetry;

namespace OrderExport.UnitTests.Export;

/// <summary>
/// How many platform retry budgets ("delivery rounds") one event gets, and how long it waits on an
/// open circuit, on a <see cref="FakeTimeProvider"/>: no real waiting, exact counts.
/// </summary>
public sealed class DeliveryRoundsTests
{
    private static readonly TimeSpan RoundDelay = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task TransientFailures_SpendTheDeliveryRounds_ThenGiveUpWithEveryAttemptCounted()
    {
        var (exporter, platform, time) = Arrange(deliveryRounds: 3, maxCircuitWait: TimeSpan.FromMinutes(2));
        platform.Answer = () => Transient(attempts: 4);

        var result = await RunAsync(exporter, time);

        result.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        platform.Calls.ShouldBe(3);
        result.Attempts.ShouldBe(12, "every round's attempts count");
    }

    [Fact]
    public async Task WhileTheCircuitIsOpen_NoRoundIsSpent_UntilMaxCircuitWaitHasPassed()
    {
        var (exporter, platform, time) = Arrange(deliveryRounds: 1, maxCircuitWait: TimeSpan.FromSeconds(10));
        platform.Answer = () => Transient(attempts: 0) with { CircuitOpen = true };
        var started = time.GetUtcNow();

        var result = await RunAsync(exporter, time);

        result.CircuitOpen.ShouldBeTrue();
        (time.GetUtcNow() - started).ShouldBe(TimeSpan.FromSeconds(10), "it waited on the circuit exactly that long");
        platform.Calls.ShouldBe(11, "a call at once and one after every round delay: one round would have allowed one");
    }

    [Fact]
    public async Task AfterTheCircuitCloses_RoundsCountAgain()
    {
        var (exporter, platform, time) = Arrange(deliveryRounds: 2, maxCircuitWait: TimeSpan.FromMinutes(2));
        var answers = new Queue<PlatformResult>([Transient(0) with { CircuitOpen = true }, Transient(0) with { CircuitOpen = true }, Transient(3), Transient(3)]);
        platform.Answer = answers.Dequeue;

        var result = await RunAsync(exporter, time);

        platform.Calls.ShouldBe(4, "two calls on the open circuit, then the two rounds");
        result.Attempts.ShouldBe(6);
    }

    /// <summary>Runs the export, moving the fake clock on by one round delay each time it starts waiting.</summary>
    private static async Task<PlatformResult> RunAsync(PlatformExporter exporter, WaitingTime time)
    {
        var run = exporter.CallPlatformAsync(Event(), TestContext.Current.CancellationToken);
        while (!run.IsCompleted)
        {
            var waiting = time.Waiting.WaitAsync(TestContext.Current.CancellationToken);
            if (await Task.WhenAny(run, waiting) == waiting)
            {
                time.Advance(RoundDelay);
            }
        }

        return await run;
    }

    /// <summary>A fake clock that says when someone starts waiting on it (a timer is created).</summary>
    private sealed class WaitingTime() : FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero))
    {
        public SemaphoreSlim Waiting { get; } = new(0);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Waiting.Release();
            return timer;
        }
    }

    private static (PlatformExporter, ScriptedPlatform, WaitingTime) Arrange(int deliveryRounds, TimeSpan maxCircuitWait)
    {
        var time = new WaitingTime();
        var platform = new ScriptedPlatform();
        var options = Options.Create(new ConsumerOptions { DeliveryRounds = deliveryRounds, MaxCircuitWait = maxCircuitWait, RoundDelay = RoundDelay });
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var exporter = new PlatformExporter(
            services.GetRequiredService<IServiceScopeFactory>(), platform, deadLetterPublisher: null!, bookkeeping: null!, options,
            new OrderExportMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), time, NullLogger<PlatformExporter>.Instance);
        return (exporter, platform, time);
    }

    private static PlatformResult Transient(int attempts) => new()
    {
        Outcome = PlatformOutcome.TransientExhausted,
        Attempts = attempts,
        Reason = "503 Service Unavailable",
    };

    private static ReceivedEvent Event()
    {
        var orderId = Guid.NewGuid();
        var payload = new OrderExportRequestedPayload(orderId, 1, "customer-1", 12.50m, "EUR");
        var envelope = new MessageEnvelope(Guid.NewGuid(), "OrderExportRequested", 1, DateTime.UtcNow, orderId, null, null,
            JsonSerializer.SerializeToElement(payload, JsonSerializerOptions.Web));
        return new ReceivedEvent(envelope, payload);
    }

    private sealed class ScriptedPlatform : IPlatformClient
    {
        private int _calls;

        public Func<PlatformResult> Answer { get; set; } = () => throw new InvalidOperationException("no answer scripted");

        public int Calls => Volatile.Read(ref _calls);

        public Task<PlatformResult> ExportAsync(PlatformExportRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(Answer());
        }
    }
}
