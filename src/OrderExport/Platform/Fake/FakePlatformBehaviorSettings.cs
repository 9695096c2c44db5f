namespace OrderExport.Platform.Fake;

/// <summary>
/// How the fake platform answers: the body of <c>PUT /platform/behavior</c>, which replaces the
/// whole behaviour (omitted fields take the defaults below), and of <c>GET /platform/behavior</c>,
/// which shows what is left of the <see cref="FailNext"/> queue and <see cref="TimeoutNext"/>.
/// <code>
/// { "delayMs": 0, "failNext": [503, 503], "failureRate": 0.0, "failureStatuses": [500],
///   "timeoutNext": 0, "hangMs": 30000, "retryAfterSeconds": 0, "rejectOrderIds": [], "hangOrderIds": [] }
/// </code>
/// Per request, first match wins: <see cref="TimeoutNext"/>, then <see cref="FailNext"/>, then
/// <see cref="HangOrderIds"/>, then <see cref="RejectOrderIds"/> (422), then <see cref="FailureRate"/>, else 200.
/// </summary>
public sealed record FakePlatformBehaviorSettings
{
    /// <summary>Every answer waits this long (a slow platform).</summary>
    public int DelayMs { get; init; }

    /// <summary>Statuses for the next requests, one each, in order.</summary>
    public int[] FailNext { get; init; } = [];

    /// <summary>Share (0..1) of the remaining requests that fail with one of <see cref="FailureStatuses"/>.</summary>
    public double FailureRate { get; init; }

    public int[] FailureStatuses { get; init; } = [500];

    /// <summary>The next this-many requests get no answer for <see cref="HangMs"/> (then 504).</summary>
    public int TimeoutNext { get; init; }

    public int HangMs { get; init; } = 30_000;

    /// <summary>When above 0, 429 and 503 answers carry <c>Retry-After</c> with this many seconds.</summary>
    public int RetryAfterSeconds { get; init; }

    /// <summary>Orders refused for good with 422.</summary>
    public Guid[] RejectOrderIds { get; init; } = [];

    /// <summary>Orders whose every request gets no answer for <see cref="HangMs"/> (then 504): a platform stuck on one order.</summary>
    public Guid[] HangOrderIds { get; init; } = [];

    /// <summary>The first problem found, as (field, message); null when valid.</summary>
    public (string Field, string Message)? Validate() => this switch
    {
        { DelayMs: < 0 or > 600_000 } => (nameof(DelayMs), "must be between 0 and 600000."),
        { HangMs: < 0 or > 600_000 } => (nameof(HangMs), "must be between 0 and 600000."),
        { TimeoutNext: < 0 } => (nameof(TimeoutNext), "must not be negative."),
        { RetryAfterSeconds: < 0 or > 3600 } => (nameof(RetryAfterSeconds), "must be between 0 and 3600."),
        { FailureRate: < 0 or > 1 or double.NaN } => (nameof(FailureRate), "must be between 0 and 1."),
        { FailNext: null } => (nameof(FailNext), "must be a list of statuses."),
        { FailNext: var f } when !f.All(IsFailureStatus) => (nameof(FailNext), "must hold statuses from 400 to 599."),
        { FailureStatuses: null } or { FailureStatuses: [] } => (nameof(FailureStatuses), "must hold at least one status."),
        { FailureStatuses: var s } when !s.All(IsFailureStatus) => (nameof(FailureStatuses), "must hold statuses from 400 to 599."),
        { RejectOrderIds: null } => (nameof(RejectOrderIds), "must be a list of order ids."),
        { HangOrderIds: null } => (nameof(HangOrderIds), "must be a list of order ids."),
        _ => null,
    };

    private static bool IsFailureStatus(int status) => status is >= 400 and <= 599;
}
