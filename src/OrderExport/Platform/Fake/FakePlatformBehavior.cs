namespace OrderExport.Platform.Fake;

/// <summary>
/// The fake platform's scripted behaviour, shared by every request (singleton, thread-safe).
/// Set it over HTTP (<c>PUT /platform/behavior</c>) or directly from a test through these methods.
/// </summary>
public sealed class FakePlatformBehavior
{
    private readonly Lock _lock = new();
    private readonly Random _random;
    private readonly Queue<int> _failNext = new();
    private FakePlatformBehaviorSettings _settings = new();
    private int _timeoutNext;

    public FakePlatformBehavior()
        : this(Random.Shared)
    {
    }

    internal FakePlatformBehavior(Random random) => _random = random;

    /// <summary>The behaviour now, with what is left of the fail-next queue and timeout count.</summary>
    public FakePlatformBehaviorSettings Current
    {
        get
        {
            lock (_lock)
            {
                return _settings with { FailNext = [.. _failNext], TimeoutNext = _timeoutNext };
            }
        }
    }

    /// <summary>Replaces the whole behaviour. Throws <see cref="ArgumentException"/> when invalid.</summary>
    public void Set(FakePlatformBehaviorSettings settings)
    {
        if (settings.Validate() is var (field, message))
        {
            throw new ArgumentException($"{field} {message}", nameof(settings));
        }

        lock (_lock)
        {
            _settings = settings with { FailNext = [], TimeoutNext = 0 };
            _failNext.Clear();
            foreach (var status in settings.FailNext)
            {
                _failNext.Enqueue(status);
            }

            _timeoutNext = settings.TimeoutNext;
        }
    }

    /// <summary>Back to answering 200 at once.</summary>
    public void Reset() => Set(new FakePlatformBehaviorSettings());

    /// <summary>Queues statuses for the next requests, after any already queued.</summary>
    public void FailNext(params int[] statuses) => Change(s => s with { FailNext = [.. s.FailNext, .. statuses] });

    /// <summary>The next <paramref name="count"/> requests hang for <paramref name="hang"/> (default: the current HangMs).</summary>
    public void TimeoutNext(int count, TimeSpan? hang = null) => Change(s => s with
    {
        TimeoutNext = s.TimeoutNext + count,
        HangMs = hang is { } h ? (int)h.TotalMilliseconds : s.HangMs,
    });

    public void Delay(TimeSpan delay) => Change(s => s with { DelayMs = (int)delay.TotalMilliseconds });

    public void FailRandomly(double rate, params int[] statuses) => Change(s => s with
    {
        FailureRate = rate,
        FailureStatuses = statuses.Length > 0 ? statuses : s.FailureStatuses,
    });

    /// <summary>429 and 503 answers carry Retry-After (zero removes it).</summary>
    public void RetryAfter(TimeSpan retryAfter) => Change(s => s with { RetryAfterSeconds = (int)retryAfter.TotalSeconds });

    /// <summary>These orders are refused for good with 422.</summary>
    public void Reject(params Guid[] orderIds) => Change(s => s with { RejectOrderIds = [.. s.RejectOrderIds, .. orderIds] });

    /// <summary>Every request for these orders hangs for HangMs, then gets 504, until the behaviour changes.</summary>
    public void Hang(params Guid[] orderIds) => Change(s => s with { HangOrderIds = [.. s.HangOrderIds, .. orderIds] });

    /// <summary>Decides the answer to one request, consuming the timeout count or the fail-next queue.</summary>
    internal FakePlatformDecision Decide(Guid orderId)
    {
        lock (_lock)
        {
            var delay = TimeSpan.FromMilliseconds(_settings.DelayMs);
            TimeSpan? retryAfter = _settings.RetryAfterSeconds > 0 ? TimeSpan.FromSeconds(_settings.RetryAfterSeconds) : null;
            if (_timeoutNext > 0)
            {
                _timeoutNext--;
                return new(FakePlatformAnswer.Hang, StatusCodes.Status504GatewayTimeout, TimeSpan.FromMilliseconds(_settings.HangMs), null);
            }

            if (_failNext.TryDequeue(out var status))
            {
                return new(FakePlatformAnswer.Fail, status, delay, retryAfter);
            }

            if (_settings.HangOrderIds.Contains(orderId))
            {
                return new(FakePlatformAnswer.Hang, StatusCodes.Status504GatewayTimeout, TimeSpan.FromMilliseconds(_settings.HangMs), null);
            }

            if (_settings.RejectOrderIds.Contains(orderId))
            {
                return new(FakePlatformAnswer.Reject, StatusCodes.Status422UnprocessableEntity, delay, null);
            }

            if (_settings.FailureRate > 0 && _random.NextDouble() < _settings.FailureRate)
            {
                var statuses = _settings.FailureStatuses;
                return new(FakePlatformAnswer.Fail, statuses[_random.Next(statuses.Length)], delay, retryAfter);
            }

            return new(FakePlatformAnswer.Accept, StatusCodes.Status200OK, delay, null);
        }
    }

    private void Change(Func<FakePlatformBehaviorSettings, FakePlatformBehaviorSettings> change)
    {
        // Lock is re-entrant: Set takes it again, and nobody slips in between reading and replacing.
        lock (_lock)
        {
            Set(change(Current));
        }
    }
}

internal enum FakePlatformAnswer
{
    Accept,
    Fail,
    Reject,
    Hang,
}

/// <summary>How to answer one request: <see cref="Delay"/> is the wait before answering (the hang, for <see cref="FakePlatformAnswer.Hang"/>).</summary>
internal readonly record struct FakePlatformDecision(FakePlatformAnswer Answer, int StatusCode, TimeSpan Delay, TimeSpan? RetryAfter);
