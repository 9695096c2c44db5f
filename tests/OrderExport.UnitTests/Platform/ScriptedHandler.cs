using System.Collections.Concurrent;
using System.Net;

namespace OrderExport.UnitTests.Platform;

/// <summary>
/// Answers each request with the next scripted step (the last step repeats) and remembers what
/// it was sent. Steps see the request's cancellation token, so a hanging step ends with the attempt.
/// </summary>
internal sealed class ScriptedHandler(params Func<CancellationToken, Task<HttpResponseMessage>>[] steps) : HttpMessageHandler
{
    private int _calls;

    public ConcurrentQueue<SentRequest> Sent { get; } = new();

    public int Calls => Volatile.Read(ref _calls);

    public static Func<CancellationToken, Task<HttpResponseMessage>> Status(int status, string? body = null, TimeSpan? retryAfter = null) => _ =>
    {
        var response = new HttpResponseMessage((HttpStatusCode)status);
        if (body is not null)
        {
            response.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/problem+json");
        }

        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        }

        return Task.FromResult(response);
    };

    public static Func<CancellationToken, Task<HttpResponseMessage>> Hang() => async cancellationToken =>
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    };

    public static Func<CancellationToken, Task<HttpResponseMessage>> Refuse() =>
        _ => Task.FromException<HttpResponseMessage>(new HttpRequestException("Connection refused (platform.test:80)"));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        Sent.Enqueue(new SentRequest(
            request.Method,
            request.RequestUri,
            request.Headers.TryGetValues("Idempotency-Key", out var keys) ? string.Join(",", keys) : null,
            request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken)));
        return await steps[Math.Min(call, steps.Length) - 1](cancellationToken);
    }

    public sealed record SentRequest(HttpMethod Method, Uri? Uri, string? IdempotencyKey, string? Body);
}
