using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Fault 5: the external platform fails a large share of calls for a while (5xx at random, calls
/// that hang past the attempt timeout, and a few seconds of answering nothing but 503).
/// </summary>
public sealed class PlatformFailureTests(KafkaTestBroker broker)
{
    private const int Orders = 400;
    private const double FailureRate = 0.4;
    private const int HangBursts = 8;
    private const int HangsPerBurst = 3;
    private static readonly TimeSpan FullOutage = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task PlatformFailingManyCallsWith5xxAndTimeouts_EveryOrderIsExportedOnce_NoneIsDeadLettered(DatabaseProvider provider)
    {
        await using var rig = await ReliabilityRig.CreateAsync(broker, provider: provider);
        // A message gets 5 retry budgets (the test default is 1) and the breaker stays open 1 s
        // instead of 5, so the test does not idle; the retry policy itself is the service's own.
        var (app, http) = rig.StartApp(new Dictionary<string, string?>
        {
            ["Consumer:DeliveryRounds"] = "5",
            ["Platform:CircuitBreaker:BreakDuration"] = "00:00:01",
        });
        var platform = app.PlatformBehavior;
        var failing = System.Diagnostics.Stopwatch.StartNew();
        var workload = new OrderWorkload(concurrency: 8, reExportEvery: 5);

        platform.FailRandomly(FailureRate, 500, 502, 503, 504);
        var sending = workload.RunAsync(http, Orders, perSecond: 50);
        // Calls that hang past the attempt timeout, a few at a time, each burst only once the one before
        // has been used up: the consumer exports one event at a time and lags behind the clients, so
        // bursts that piled up would all land on one event and use up its whole budget.
        for (var burst = 1; burst <= HangBursts; burst++)
        {
            var callsBefore = app.Platform.Received.Count;
            await Eventually.Until(() => Task.FromResult(app.Platform.Received.Count),
                calls => calls >= callsBefore + 20 && platform.Current.TimeoutNext == 0, TimeSpan.FromSeconds(120),
                "the previous hangs used up and 20 more calls made");
            platform.TimeoutNext(HangsPerBurst, hang: TimeSpan.FromSeconds(2));
            if (burst == HangBursts / 2)
            {
                // A few seconds of the platform being down for everyone: the circuit opens and the consumer waits.
                platform.FailRandomly(1.0, 503);
                await Task.Delay(FullOutage, TestContext.Current.CancellationToken);
                platform.FailRandomly(FailureRate, 500, 502, 503, 504);
            }
        }

        await sending;
        // Keep failing until a good part of the backlog has gone through the failing platform.
        var events = (await ExportAudit.ProgressAsync(rig.Database, rig.Platforms)).Events;
        await Eventually.Until(() => ExportAudit.ProgressAsync(rig.Database, rig.Platforms),
            p => p.Handled >= events * 3 / 4, TimeSpan.FromSeconds(180), "three quarters exported through the failing platform");
        var faultLasted = failing.Elapsed;
        platform.Reset();
        var recovered = System.Diagnostics.Stopwatch.StartNew();

        await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120));
        var drain = recovered.Elapsed;

        var audit = await rig.AuditAsync();
        var failedCalls = app.Platform.Received.Count(r => r.StatusCode != 200);
        var hung = app.Platform.Received.Count(r => r.StatusCode is null);
        workload.ShouldHaveHadOnlyExpectedAnswers();
        failedCalls.ShouldBeGreaterThan(audit.Events / 4, "a large share of the calls must really have failed");
        // Retried calls carry the same Idempotency-Key; a late 200 after a timed-out attempt is absorbed there.
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, maxPlatformDuplicateCalls: null);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            ReliabilityReport.IdFor("S5", provider),
            ReliabilityReport.TitleFor("External platform failing many calls (5xx, timeouts, a full outage)", provider),
            nameof(PlatformFailingManyCallsWith5xxAndTimeouts_EveryOrderIsExportedOnce_NoneIsDeadLettered),
            $"{FailureRate:P0} of calls answered 500/502/503/504 at random, {hung} calls hanging past the 0.5 s attempt timeout, "
                + $"{FullOutage.TotalSeconds:0} s of nothing but 503; {failedCalls} of {app.Platform.Received.Count} platform calls failed") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"the platform misbehaved for {faultLasted.TotalSeconds:0} s, until three quarters of the events had gone "
                + "through it; Consumer:DeliveryRounds=5 and a 1 s circuit break for this scenario, retries, backoff and breaker are the service's own pipeline",
        });
    }
}
