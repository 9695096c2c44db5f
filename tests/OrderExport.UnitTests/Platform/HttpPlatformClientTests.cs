using System.Diagnostics;
using System.Text.Json;
using OrderExport.Platform;
using static OrderExport.UnitTests.Platform.ScriptedHandler;

namespace OrderExport.UnitTests.Platform;

/// <summary>The real client and Polly pipeline against a scripted platform.</summary>
public sealed class HttpPlatformClientTests
{
    private const string Rejection = """{"type":"urn:x","title":"Order rejected","status":422,"detail":"Amount over limit"}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Export_WhenOk_PostsJsonWithIdempotencyKeyOnce()
    {
        var handler = new ScriptedHandler(Status(200));
        using var harness = new PlatformClientHarness(handler);
        var request = PlatformClientHarness.NewRequest();

        var result = await harness.Client.ExportAsync(request, Ct);

        result.Outcome.ShouldBe(PlatformOutcome.Exported);
        result.Attempts.ShouldBe(1);
        result.StatusCode.ShouldBe(200);
        result.FirstFailureAt.ShouldBeNull();
        var sent = handler.Sent.ShouldHaveSingleItem();
        sent.Method.ShouldBe(HttpMethod.Post);
        sent.Uri.ShouldBe(new Uri("http://platform.test/api/platform/orders"));
        sent.IdempotencyKey.ShouldBe(request.EventId.ToString());
        JsonSerializer.Deserialize<PlatformExportRequest>(sent.Body!, JsonSerializerOptions.Web).ShouldBe(request);
    }

    [Fact]
    public async Task Export_When503ThenOk_RetriesAndSucceeds()
    {
        var handler = new ScriptedHandler(Status(503), Status(200));
        using var harness = new PlatformClientHarness(handler);

        var result = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        result.Outcome.ShouldBe(PlatformOutcome.Exported);
        result.Attempts.ShouldBe(2);
        handler.Calls.ShouldBe(2);
        result.FirstFailureAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Export_RetriesSendTheSameIdempotencyKey()
    {
        var handler = new ScriptedHandler(Status(503), Status(500), Status(429), Status(200));
        using var harness = new PlatformClientHarness(handler);
        var request = PlatformClientHarness.NewRequest();

        var result = await harness.Client.ExportAsync(request, Ct);

        result.Attempts.ShouldBe(4);
        handler.Sent.Select(s => s.IdempotencyKey).ShouldBe(Enumerable.Repeat(request.EventId.ToString(), 4));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    public async Task Export_WhenClientError_FailsPermanentlyAfterOneAttempt(int status)
    {
        var handler = new ScriptedHandler(Status(status, Rejection), Status(200));
        using var harness = new PlatformClientHarness(handler);

        var result = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        result.Outcome.ShouldBe(PlatformOutcome.PermanentFailure);
        result.Attempts.ShouldBe(1);
        handler.Calls.ShouldBe(1);
        result.StatusCode.ShouldBe(status);
        result.Reason.ShouldNotBeNull().ShouldContain($"{status}");
        result.Reason.ShouldContain("Order rejected: Amount over limit");
        result.FirstFailureAt.ShouldNotBeNull();
        result.LastFailureAt.ShouldBe(result.FirstFailureAt);
    }

    [Fact]
    public async Task Export_When429WithRetryAfter_WaitsAsLongAsThePlatformAsks()
    {
        // Backoff alone would wait at most 10 ms (RetryMaxDelay); Retry-After asks for a second.
        var handler = new ScriptedHandler(Status(429, retryAfter: TimeSpan.FromSeconds(1)), Status(200));
        using var harness = new PlatformClientHarness(handler);
        var request = PlatformClientHarness.NewRequest();

        var clock = Stopwatch.StartNew();
        var result = await harness.Client.ExportAsync(request, Ct);

        result.Outcome.ShouldBe(PlatformOutcome.Exported);
        result.Attempts.ShouldBe(2);
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4));
        var retry = harness.Logs.Entries.Single(e => e.Values.ContainsKey("RetryDelay"));
        retry.Values["RetryDelay"].ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Export_WhenAttemptTimesOut_RetriesAndSucceeds()
    {
        var handler = new ScriptedHandler(Hang(), Status(200));
        using var harness = new PlatformClientHarness(handler);

        var result = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        result.Outcome.ShouldBe(PlatformOutcome.Exported);
        result.Attempts.ShouldBe(2);
        harness.Logs.Entries.ShouldContain(e => e.Message.Contains("timed out after 300 ms"));
    }

    [Fact]
    public async Task Export_WhenAlways503_GivesUpAfterMaxRetries()
    {
        var handler = new ScriptedHandler(Status(503));
        using var harness = new PlatformClientHarness(handler);

        var result = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        result.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        result.Attempts.ShouldBe(4);
        handler.Calls.ShouldBe(4);
        result.StatusCode.ShouldBe(503);
        result.CircuitOpen.ShouldBeFalse();
        result.Reason.ShouldNotBeNull().ShouldContain("503");
        result.LastFailureAt.ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(result.FirstFailureAt!.Value);
    }

    [Fact]
    public async Task Export_WhenConnectionRefused_RetriesThenGivesUp()
    {
        var handler = new ScriptedHandler(Refuse());
        using var harness = new PlatformClientHarness(handler, new Dictionary<string, string?> { ["Platform:MaxRetries"] = "2" });

        var result = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        result.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        result.Attempts.ShouldBe(3);
        result.StatusCode.ShouldBeNull();
        result.Reason.ShouldNotBeNull().ShouldContain("Connection refused");
    }

    [Fact]
    public async Task Export_WhenTotalTimeoutRunsOut_GivesUpWithinTheBudget()
    {
        var handler = new ScriptedHandler(Hang());
        using var harness = new PlatformClientHarness(handler, new Dictionary<string, string?>
        {
            ["Platform:AttemptTimeout"] = "00:00:00.200",
            ["Platform:TotalTimeout"] = "00:00:00.500",
            ["Platform:MaxRetries"] = "10",
        });

        var clock = Stopwatch.StartNew();
        var result = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        result.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        result.Attempts.ShouldBeInRange(2, 4);
        result.Reason.ShouldNotBeNull().ShouldContain("no answer within 00:00:00.5");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Export_WhenFailuresReachTheRatio_OpensCircuitAndFailsFast()
    {
        var handler = new ScriptedHandler(Status(503));
        using var harness = new PlatformClientHarness(handler, new Dictionary<string, string?>
        {
            ["Platform:CircuitBreaker:MinimumThroughput"] = "2",
            ["Platform:CircuitBreaker:BreakDuration"] = "00:01:00",
        });

        var first = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);
        var second = await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct);

        // Two failed attempts out of two open the circuit; the third attempt is refused without a request.
        first.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        first.Attempts.ShouldBe(2);
        first.CircuitOpen.ShouldBeTrue();
        second.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        second.Attempts.ShouldBe(0);
        second.CircuitOpen.ShouldBeTrue();
        second.Reason.ShouldNotBeNull().ShouldContain("circuit open");
        handler.Calls.ShouldBe(2);
        harness.Logs.Entries.ShouldContain(e => e.Message.StartsWith("Platform circuit opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Export_WhenPermanentFailures_DoesNotOpenCircuit()
    {
        var handler = new ScriptedHandler(Status(422, Rejection));
        using var harness = new PlatformClientHarness(handler, new Dictionary<string, string?> { ["Platform:CircuitBreaker:MinimumThroughput"] = "2" });

        for (var i = 0; i < 5; i++)
        {
            (await harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), Ct)).Outcome.ShouldBe(PlatformOutcome.PermanentFailure);
        }

        handler.Calls.ShouldBe(5);
    }

    [Fact]
    public async Task Export_WhenCallerCancels_Throws()
    {
        var handler = new ScriptedHandler(Hang());
        using var harness = new PlatformClientHarness(handler, new Dictionary<string, string?> { ["Platform:AttemptTimeout"] = "00:00:05" });
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(100));

        await Should.ThrowAsync<OperationCanceledException>(() =>
            harness.Client.ExportAsync(PlatformClientHarness.NewRequest(), cancellation.Token));
    }

    [Fact]
    public async Task Export_LogsOrderIdAndEventIdOnEveryRetry()
    {
        var handler = new ScriptedHandler(Status(503), Status(503), Status(200));
        using var harness = new PlatformClientHarness(handler);
        var request = PlatformClientHarness.NewRequest();

        await harness.Client.ExportAsync(request, Ct);

        var retries = harness.Logs.Entries.Where(e => e.Values.ContainsKey("RetryDelay")).ToList();
        retries.Count.ShouldBe(2);
        retries.ShouldAllBe(e => Equals(e.Values["OrderId"], request.OrderId) && Equals(e.Values["EventId"], request.EventId));
        retries.Select(e => e.Values["Attempt"]).ShouldBe([1, 2]);
    }
}
