using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderExport.Api;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.IntegrationTests.Platform;

/// <summary>The real client against the real fake endpoints over loopback HTTP.</summary>
public sealed class FakePlatformEndpointTests : IAsyncLifetime
{
    private FakePlatformHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _host = await FakePlatformHost.StartAsync();

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Export_IsRecordedWithKeyOrderAndSequence()
    {
        var request = NewRequest() with { Sequence = 3 };

        var result = await _host.Client.ExportAsync(request, Ct);

        result.Outcome.ShouldBe(PlatformOutcome.Exported);
        var received = (await _host.Http.GetFromJsonAsync<List<FakePlatformRequest>>("/platform/received", Ct)).ShouldNotBeNull().ShouldHaveSingleItem();
        received.EventId.ShouldBe(request.EventId);
        received.OrderId.ShouldBe(request.OrderId);
        received.Sequence.ShouldBe(3);
        received.StatusCode.ShouldBe(200);
        JsonSerializer.Deserialize<PlatformExportRequest>(received.Body, JsonSerializerOptions.Web).ShouldBe(request);
    }

    [Fact]
    public async Task Export_WhenFakeFailsNextTwice_RetriesWithTheSameKeyAndSucceeds()
    {
        var put = await _host.Http.PutAsJsonAsync("/platform/behavior", new { failNext = new[] { 503, 500 } }, Ct);
        put.StatusCode.ShouldBe(HttpStatusCode.OK);
        var request = NewRequest();

        var result = await _host.Client.ExportAsync(request, Ct);

        result.Outcome.ShouldBe(PlatformOutcome.Exported);
        result.Attempts.ShouldBe(3);
        _host.Recorder.Received.Select(r => (r.EventId, r.StatusCode)).ShouldBe([(request.EventId, 503), (request.EventId, 500), (request.EventId, 200)]);
        _host.Recorder.Exported.ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Export_WhenFakeRejectsTheOrder_FailsPermanentlyWithItsReason()
    {
        var request = NewRequest();
        _host.Behavior.Reject(request.OrderId);

        var result = await _host.Client.ExportAsync(request, Ct);

        result.Outcome.ShouldBe(PlatformOutcome.PermanentFailure);
        result.Attempts.ShouldBe(1);
        result.StatusCode.ShouldBe(422);
        result.Reason.ShouldNotBeNull().ShouldContain("Order rejected");
    }

    [Fact]
    public async Task Export_WhenEveryAnswerIsTooSlow_RetriesAreRecordedAsDuplicates()
    {
        // Each attempt is accepted on arrival but answered after the client's 1 s attempt timeout. The
        // timeout leaves a loaded machine time to deliver each attempt; the last one may arrive after
        // the client gave up on it, so its recording is awaited (it once counted 2 of 4 under load).
        await using var host = await FakePlatformHost.StartAsync(new() { ["Platform:AttemptTimeout"] = "00:00:01" });
        host.Behavior.Delay(TimeSpan.FromSeconds(3));
        var request = NewRequest();

        var result = await host.Client.ExportAsync(request, Ct);

        result.Outcome.ShouldBe(PlatformOutcome.TransientExhausted);
        result.Attempts.ShouldBe(4);
        await Eventually.True(() => Task.FromResult(host.Recorder.CountFor(request.EventId) == 4), because: "every attempt reaches the platform");
        host.Recorder.Exported.ShouldHaveSingleItem();
        host.Recorder.DuplicateCount.ShouldBe(3);
    }

    [Fact]
    public async Task Post_WhenDuplicateKey_AnswersTheFirstAnswerAgain()
    {
        var request = NewRequest();

        var first = await PostAsync(request, request.EventId.ToString());
        var second = await PostAsync(request, request.EventId.ToString());

        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await second.Content.ReadAsStringAsync(Ct)).ShouldBe(await first.Content.ReadAsStringAsync(Ct));
        _host.Recorder.DuplicateCount.ShouldBe(1);
    }

    [Fact]
    public async Task Post_When429IsScripted_SendsRetryAfter()
    {
        _host.Behavior.Set(new FakePlatformBehaviorSettings { FailNext = [429], RetryAfterSeconds = 3 });
        var request = NewRequest();

        var response = await PostAsync(request, request.EventId.ToString());

        response.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter.ShouldNotBeNull().Delta.ShouldBe(TimeSpan.FromSeconds(3));
        (await Problem(response)).GetProperty("type").GetString().ShouldBe(FakePlatformApi.ScriptedFailure);
    }

    [Theory]
    [InlineData(null, "Idempotency-Key")]
    [InlineData("not-a-guid", "Idempotency-Key")]
    [InlineData("other-key", "EventId")]
    public async Task Post_WhenKeyIsMissingOrWrong_Answers400Problem(string? key, string field)
    {
        var request = NewRequest();

        var response = await PostAsync(request, key == "other-key" ? Guid.NewGuid().ToString() : key);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await Problem(response);
        problem.GetProperty("type").GetString().ShouldBe(Problems.Validation);
        problem.GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
        _host.Recorder.Received.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("not json", "body")]
    [InlineData("""{"orderId":"00000000-0000-0000-0000-000000000000"}""", "OrderId")]
    public async Task Post_WhenBodyIsInvalid_Answers400Problem(string body, string field)
    {
        var key = Guid.NewGuid();
        body = body.Replace("{", $$"""{"eventId":"{{key}}",""", StringComparison.Ordinal);
        using var message = new HttpRequestMessage(HttpMethod.Post, "/platform/orders")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            Headers = { { "Idempotency-Key", key.ToString() } },
        };

        var response = await _host.Http.SendAsync(message, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Problem(response)).GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Behavior_RoundTripsOverHttp_AndRefusesInvalidSettings()
    {
        var rejected = Guid.NewGuid();
        var put = await _host.Http.PutAsJsonAsync("/platform/behavior", new
        {
            delayMs = 5, failNext = new[] { 503 }, failureRate = 0.0, failureStatuses = new[] { 500 }, timeoutNext = 1, rejectOrderIds = new[] { rejected },
        }, Ct);
        var invalid = await _host.Http.PutAsJsonAsync("/platform/behavior", new { failureRate = 2.0 }, Ct);
        var current = await _host.Http.GetFromJsonAsync<FakePlatformBehaviorSettings>("/platform/behavior", JsonSerializerOptions.Web, Ct);

        put.StatusCode.ShouldBe(HttpStatusCode.OK);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        current.ShouldNotBeNull();
        current.DelayMs.ShouldBe(5);
        current.FailNext.ShouldBe([503]);
        current.TimeoutNext.ShouldBe(1);
        current.RejectOrderIds.ShouldBe([rejected]);
    }

    [Fact]
    public async Task DeleteReceived_ForgetsEverything()
    {
        await _host.Client.ExportAsync(NewRequest(), Ct);

        var response = await _host.Http.DeleteAsync("/platform/received", Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        _host.Recorder.Received.ShouldBeEmpty();
    }

    private async Task<HttpResponseMessage> PostAsync(PlatformExportRequest request, string? idempotencyKey)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/platform/orders") { Content = JsonContent.Create(request) };
        if (idempotencyKey is not null)
        {
            message.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await _host.Http.SendAsync(message, Ct);
    }

    private static async Task<JsonElement> Problem(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
    }

    [Fact]
    public async Task OutsideDevelopment_ControlRoutesNeedTheOperationsKey_ButReceivingAndReadingDoNot()
    {
        const string key = "demo-operations-key-0123";
        await using var host = await FakePlatformHost.StartAsync(new() { ["Operations:ApiKey"] = key }, environment: "Production");

        (await host.Http.PutAsJsonAsync("/platform/behavior", new { failNext = new[] { 503 } }, Ct)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await host.Http.DeleteAsync("/platform/received", Ct)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        host.Behavior.Current.FailNext.ShouldBeEmpty("a refused change changes nothing");
        (await host.Http.GetAsync("/platform/behavior", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var put = new HttpRequestMessage(HttpMethod.Put, "/platform/behavior") { Content = JsonContent.Create(new { failNext = new[] { 503 } }) };
        put.Headers.Add(OperationsOptions.HeaderName, key);
        (await host.Http.SendAsync(put, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        host.Behavior.Current.FailNext.ShouldBe([503]);
    }

    private static PlatformExportRequest NewRequest() => new(Guid.NewGuid(), Guid.NewGuid(), 1, "customer-1", 12.50m, "EUR");
}
