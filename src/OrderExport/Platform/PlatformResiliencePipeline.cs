using System.Net;
using OrderExport.Telemetry;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace OrderExport.Platform;

/// <summary>
/// The platform HttpClient's resilience handler (<c>AddResilienceHandler</c>), built once per
/// named client, so every export shares the circuit breaker's state. Strategies, outermost first:
/// <list type="number">
/// <item>total timeout: the budget for one export, delays included (<see cref="PlatformOptions.TotalTimeout"/>);</item>
/// <item>retry: transient failures only, exponential backoff with jitter, Retry-After honoured;</item>
/// <item>circuit breaker: sees every attempt; when open, fails at once and the retry does not retry that;</item>
/// <item>attempt timeout: one HTTP request; its timeout is a transient failure for the two above.</item>
/// </list>
/// </summary>
internal sealed partial class PlatformResiliencePipeline
{
    public static readonly ResiliencePropertyKey<PlatformCall> CallKey = new("OrderExport.Platform.Call");

    public const string HandlerName = "platform";

    private readonly TimeProvider _time;
    private readonly ILogger<PlatformResiliencePipeline> _logger;

    private readonly CircuitBreakerStateProvider _circuit = new();

    public PlatformResiliencePipeline(TimeProvider time, OrderExportMetrics metrics, ILogger<PlatformResiliencePipeline> logger)
    {
        _time = time;
        _logger = logger;
        metrics.CircuitState = () => _circuit.CircuitState;
    }

    /// <summary>408, 429 and 5xx may succeed later; every other status is the platform's final answer.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>Adds the strategies to the handler's pipeline (called once, by the resilience handler's registry).</summary>
    public void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, PlatformOptions options)
    {
        var transient = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(response => IsTransient(response.StatusCode));

        builder.TimeProvider = _time;

        builder.AddTimeout(new TimeoutStrategyOptions { Name = "PlatformTotalTimeout", Timeout = options.TotalTimeout });

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "PlatformRetry",
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                // The platform knows best when it can take more; MaxDelay does not cap this, the total timeout does.
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = OnRetry,
            });
        }

        var breaker = options.CircuitBreaker;
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            Name = "PlatformCircuitBreaker",
            ShouldHandle = transient,
            FailureRatio = breaker.FailureRatio,
            MinimumThroughput = breaker.MinimumThroughput,
            SamplingDuration = breaker.SamplingDuration,
            BreakDuration = breaker.BreakDuration,
            StateProvider = _circuit,
            OnOpened = args =>
            {
                args.Context.Properties.TryGetValue(CallKey, out var call);
                LogCircuitOpened(args.BreakDuration, call?.Request.OrderId, call?.Request.EventId, Describe(args.Outcome));
                return default;
            },
            OnHalfOpened = _ =>
            {
                LogCircuitHalfOpened();
                return default;
            },
            OnClosed = _ =>
            {
                LogCircuitClosed();
                return default;
            },
        });

        builder.AddTimeout(new TimeoutStrategyOptions { Name = "PlatformAttemptTimeout", Timeout = options.AttemptTimeout });
    }

    private ValueTask OnRetry(OnRetryArguments<HttpResponseMessage> args)
    {
        var error = Describe(args.Outcome);
        if (args.Context.Properties.TryGetValue(CallKey, out var call))
        {
            call.RecordFailure(error, (int?)args.Outcome.Result?.StatusCode, _time.GetUtcNow());
            LogRetrying(call.Request.OrderId, call.Request.EventId, call.Attempts, error, args.RetryDelay);
        }

        return default;
    }

    /// <summary>Retry-After on 429 or 503, as seconds or as a date; null lets the backoff decide.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response is not { StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable }
            || response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        var delay = retryAfter.Delta ?? (retryAfter.Date - _time.GetUtcNow());
        return delay is { } d ? (d > TimeSpan.Zero ? d : TimeSpan.Zero) : null;
    }

    public static string Describe(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { } response } => Describe(response),
        { Exception: TimeoutRejectedException timeout } => $"timed out after {timeout.Timeout.TotalMilliseconds:0} ms",
        { Exception: { } exception } => $"{exception.GetType().Name}: {exception.Message}",
        _ => "unknown failure",
    };

    public static string Describe(HttpResponseMessage response)
    {
        var text = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        return response.Headers.RetryAfter is { } retryAfter ? $"{text} (Retry-After: {retryAfter})" : text;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Platform export of order {OrderId} event {EventId} failed on attempt {Attempt}: {Error}; retrying in {RetryDelay}")]
    private partial void LogRetrying(Guid orderId, Guid eventId, int attempt, string error, TimeSpan retryDelay);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Platform circuit opened for {BreakDuration} after order {OrderId} event {EventId} failed: {Error}; exports fail at once meanwhile")]
    private partial void LogCircuitOpened(TimeSpan breakDuration, Guid? orderId, Guid? eventId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Platform circuit half-open: the next export is a trial")]
    private partial void LogCircuitHalfOpened();

    [LoggerMessage(Level = LogLevel.Information, Message = "Platform circuit closed: exports flow again")]
    private partial void LogCircuitClosed();
}
