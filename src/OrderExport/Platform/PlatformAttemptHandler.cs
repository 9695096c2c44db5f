using System.Diagnostics;
using System.Globalization;
using OrderExport.Telemetry;
using Polly;

namespace OrderExport.Platform;

/// <summary>
/// Below the resilience handler: each HTTP attempt it sends gets a span (HttpClient's own client
/// span sits under it when the request goes over a socket), counts in the call, a metric, and an
/// entry in the operations page's per-order attempt log (status and duration).
/// </summary>
internal sealed class PlatformAttemptHandler(OrderExportMetrics metrics, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var call = request.GetResilienceContext() is { } context && context.Properties.TryGetValue(PlatformResiliencePipeline.CallKey, out var c) ? c : null;
        if (call is not null)
        {
            call.Attempts++;
        }

        using var activity = OrderExportActivities.Source.StartActivity("platform export attempt", ActivityKind.Client);
        if (activity is not null && call is not null)
        {
            activity.SetTag("orderexport.order_id", call.Request.OrderId.ToString())
                .SetTag("messaging.message.id", call.Request.EventId.ToString())
                .SetTag("orderexport.attempt", call.Attempts);
        }

        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        void Observed(string status)
        {
            metrics.PlatformAttempt(status);
            if (call is not null)
            {
                metrics.PlatformAttemptObserved?.Invoke(new PlatformAttemptRecord(call.Request.OrderId, call.Request.EventId, call.Attempts, status,
                    time.GetElapsedTime(started), startedAt, activity?.TraceId.ToString() ?? Activity.Current?.TraceId.ToString()));
            }
        }

        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            Observed(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
            activity?.SetTag("http.response.status_code", (int)response.StatusCode);
            if (!response.IsSuccessStatusCode)
            {
                activity?.SetStatus(ActivityStatusCode.Error, $"{(int)response.StatusCode}");
            }

            return response;
        }
        catch (OperationCanceledException)
        {
            // The attempt timeout cancels the request; shutdown does too, but then nobody reads the metric.
            Observed("timeout");
            activity?.SetStatus(ActivityStatusCode.Error, "timeout");
            throw;
        }
        catch (HttpRequestException)
        {
            Observed("error");
            activity?.SetStatus(ActivityStatusCode.Error, "connection error");
            throw;
        }
    }
}
