using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderExport.Api;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// A client population that creates and confirms orders (and asks some for more exports) the way
/// a well-behaved client does: a 503 ProblemDetails is retried after a short pause, anything else
/// that is not a success is recorded as unexpected. Counts what happened, for the assertions.
/// </summary>
public sealed class OrderWorkload(int concurrency = 8, int reExportEvery = 0, int reExportsPerOrder = 2)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);

    private readonly ConcurrentQueue<Guid> _confirmed = new();
    private readonly ConcurrentQueue<string> _unexpected = new();
    private readonly ConcurrentDictionary<string, int> _unavailableTypes = new();
    private int _sent;
    private int _unavailable;
    private int _unavailableWithoutRetryAfter;
    private int _exportRequests;

    /// <summary>Orders the workload set out to create and confirm.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Orders whose confirm was answered 200.</summary>
    public int Confirmed => _confirmed.Count;

    public IReadOnlyCollection<Guid> ConfirmedOrderIds => [.. _confirmed];

    /// <summary>Extra export requests answered 202.</summary>
    public int ExportRequests => Volatile.Read(ref _exportRequests);

    /// <summary>503 answers seen (each was retried).</summary>
    public int Unavailable => Volatile.Read(ref _unavailable);

    public int UnavailableWithoutRetryAfter => Volatile.Read(ref _unavailableWithoutRetryAfter);

    /// <summary>ProblemDetails types of the 503 answers.</summary>
    public IReadOnlyCollection<string> UnavailableTypes => [.. _unavailableTypes.Keys];

    /// <summary>Answers that were neither a success nor a retriable 503: must stay empty.</summary>
    public IReadOnlyCollection<string> Unexpected => [.. _unexpected];

    /// <summary>
    /// Sends <paramref name="count"/> orders through <paramref name="http"/>, at most
    /// <paramref name="perSecond"/> started per second when given (so a fault lands mid-stream).
    /// </summary>
    public async Task RunAsync(HttpClient http, int count, double? perSecond = null)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        var cancellation = TestContext.Current.CancellationToken;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i < count)
            {
                if (perSecond is { } rate && TimeSpan.FromSeconds(i / rate) - clock.Elapsed is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, cancellation);
                }

                await SendOneAsync(http, Interlocked.Increment(ref _sent));
            }
        }));
    }

    private async Task SendOneAsync(HttpClient http, int number)
    {
        var created = await CallAsync(http, HttpMethod.Post, "/orders",
            new { customerId = $"customer-{number % 97}", amount = 10m + (number % 1000), currency = "EUR" });
        if (created is null)
        {
            return;
        }

        var orderId = created.Value.GetProperty("id").GetGuid();
        if (await CallAsync(http, HttpMethod.Post, "/orders/confirm", new { orderId }) is null)
        {
            return;
        }

        _confirmed.Enqueue(orderId);
        if (reExportEvery > 0 && number % reExportEvery == 0)
        {
            for (var e = 0; e < reExportsPerOrder; e++)
            {
                if (await CallAsync(http, HttpMethod.Post, $"/orders/{orderId}/exports", null) is null)
                {
                    return;
                }

                Interlocked.Increment(ref _exportRequests);
            }
        }
    }

    /// <summary>The answer's JSON on success; null (recorded as unexpected) otherwise. 503 is retried.</summary>
    private async Task<JsonElement?> CallAsync(HttpClient http, HttpMethod method, string path, object? body)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(method, path)
            {
                Content = body is null ? null : JsonContent.Create(body, options: OrdersClient.Json),
            };
            using var response = await http.SendAsync(request, cancellation);
            var text = await response.Content.ReadAsStringAsync(cancellation);
            if (response.IsSuccessStatusCode)
            {
                using var json = JsonDocument.Parse(text);
                return json.RootElement.Clone();
            }

            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || clock.Elapsed > GiveUpAfter)
            {
                _unexpected.Enqueue($"{method} {path}: {(int)response.StatusCode} {text}");
                return null;
            }

            Interlocked.Increment(ref _unavailable);
            if (response.Headers.RetryAfter is null)
            {
                Interlocked.Increment(ref _unavailableWithoutRetryAfter);
            }

            _unavailableTypes.TryAdd(ProblemType(text) ?? "(no problem type)", 0);
            // A real client would honour Retry-After (5 s); a short pause keeps the test quick.
            await Task.Delay(RetryPause, cancellation);
        }
    }

    private static string? ProblemType(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.TryGetProperty("type", out var type) ? type.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Fails with every unexpected answer when there was one.</summary>
    public void ShouldHaveHadOnlyExpectedAnswers()
    {
        Unexpected.ShouldBeEmpty($"answers other than success or 503 {Problems.DatabaseUnavailable}");
        UnavailableTypes.ShouldAllBe(t => t == Problems.DatabaseUnavailable);
        UnavailableWithoutRetryAfter.ShouldBe(0, "every 503 carries Retry-After");
    }
}
