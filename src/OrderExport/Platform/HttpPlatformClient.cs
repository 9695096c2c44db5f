using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OrderExport.Platform;

/// <summary>
/// <see cref="IPlatformClient"/> over HTTP: <c>POST platform/orders</c> relative to the
/// <see cref="PlatformServiceCollectionExtensions.HttpClientName"/> client's base address, with the
/// event id as <c>Idempotency-Key</c> on every attempt so the platform can drop our retries'
/// duplicates. A singleton: it asks the factory for a client per call (cheap: the factory keeps one
/// handler and its connection pool for the process's life, see <see cref="PlatformConnections"/>).
/// </summary>
internal sealed partial class HttpPlatformClient(
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<HttpPlatformClient> logger) : IPlatformClient
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string OrdersPath = "platform/orders";

    private const int MaxReasonLength = 500;

    public async Task<PlatformResult> ExportAsync(PlatformExportRequest request, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(PlatformServiceCollectionExtensions.HttpClientName);
        if (http.BaseAddress is null)
        {
            throw new InvalidOperationException(
                $"The '{PlatformServiceCollectionExtensions.HttpClientName}' HttpClient has no BaseAddress: set Platform:BaseAddress, or configure the in-process platform's address.");
        }

        var call = new PlatformCall(request);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(PlatformResiliencePipeline.CallKey, call);
        // One message for all attempts: the resilience handler sends it again (its content re-reads).
        using var message = new HttpRequestMessage(HttpMethod.Post, OrdersPath)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, JsonSerializerOptions.Web))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json", "utf-8") },
            },
        };
        message.Headers.Add(IdempotencyKeyHeader, request.EventId.ToString());
        message.SetResilienceContext(context);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            return await ToResultAsync(call, response, cancellationToken);
        }
        catch (BrokenCircuitException open)
        {
            var reason = call.Attempts == 0
                ? $"circuit open: platform calls are refused for {open.RetryAfter?.ToString() ?? "a while"}"
                : $"circuit opened after {call.Attempts} attempt(s); last failure: {call.LastError}";
            return GaveUp(call, reason, circuitOpen: true);
        }
        catch (TimeoutRejectedException timeout) when (!cancellationToken.IsCancellationRequested)
        {
            // The last attempt's own timeout, or the total budget ran out (during an attempt or a delay).
            var earlier = call.LastError;
            Failed(call, $"no answer within {timeout.Timeout}", null);
            return GaveUp(call, earlier is null
                ? $"{call.LastError} (attempt {call.Attempts})"
                : $"{call.LastError} (attempt {call.Attempts}); earlier failure: {earlier}");
        }
        catch (HttpRequestException failure) when (!cancellationToken.IsCancellationRequested)
        {
            Failed(call, $"{failure.GetType().Name}: {failure.Message}", null);
            return GaveUp(call, $"no success within {call.Attempts} attempt(s); last failure: {call.LastError}");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<PlatformResult> ToResultAsync(PlatformCall call, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var request = call.Request;
        if (response.IsSuccessStatusCode)
        {
            LogExported(request.OrderId, request.EventId, call.Attempts);
            return call.ToResult(PlatformOutcome.Exported, status, null);
        }

        var reason = $"{PlatformResiliencePipeline.Describe(response)}{await ProblemTextAsync(response, cancellationToken)}";
        Failed(call, reason, status);
        if (PlatformResiliencePipeline.IsTransient(response.StatusCode))
        {
            return GaveUp(call, $"no success within {call.Attempts} attempt(s); last failure: {reason}");
        }

        LogRejected(request.OrderId, request.EventId, status, reason, call.Attempts);
        return call.ToResult(PlatformOutcome.PermanentFailure, status, reason);
    }

    private void Failed(PlatformCall call, string error, int? status) => call.RecordFailure(error, status, time.GetUtcNow());

    private PlatformResult GaveUp(PlatformCall call, string reason, bool circuitOpen = false)
    {
        LogGaveUp(call.Request.OrderId, call.Request.EventId, call.Attempts, reason);
        return call.ToResult(PlatformOutcome.TransientExhausted, call.LastStatusCode, reason, circuitOpen);
    }

    /// <summary>": title: detail" from a ProblemDetails body, else the start of the body. Already buffered by SendAsync.</summary>
    private static async Task<string> ProblemTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(body))
        {
            return "";
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var parts = new[] { "title", "detail" }
                .Select(name => json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(name, out var p) ? p.ToString() : null)
                .Where(p => !string.IsNullOrWhiteSpace(p));
            body = string.Join(": ", parts);
        }
        catch (JsonException)
        {
            // Not JSON: keep the text as it is.
        }

        return body.Length == 0 ? "" : $": {(body.Length > MaxReasonLength ? body[..MaxReasonLength] : body)}";
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Exported order {OrderId} event {EventId} to the platform in {Attempts} attempt(s)")]
    private partial void LogExported(Guid orderId, Guid eventId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Platform refused order {OrderId} event {EventId} with {StatusCode}: {Reason} (attempt {Attempts}); not retrying")]
    private partial void LogRejected(Guid orderId, Guid eventId, int statusCode, string reason, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform export of order {OrderId} event {EventId} gave up after {Attempts} attempt(s): {Reason}")]
    private partial void LogGaveUp(Guid orderId, Guid eventId, int attempts, string reason);
}
