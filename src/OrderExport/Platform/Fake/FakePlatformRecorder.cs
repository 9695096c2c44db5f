namespace OrderExport.Platform.Fake;

/// <summary>
/// Everything the fake platform received, in arrival order (singleton, thread-safe), and the
/// idempotency store: the first 200 for an <c>Idempotency-Key</c> is kept, and a later request
/// with that key gets the same answer back and is recorded as a duplicate. Both are bounded by
/// <see cref="Capacity"/>: the oldest requests and keys are forgotten first (a real platform keeps
/// idempotency keys for a window too), so a long-running demo cannot grow without end.
/// </summary>
public sealed class FakePlatformRecorder(TimeProvider time)
{
    /// <summary>Requests, and idempotency keys, kept at most.</summary>
    public const int Capacity = 200_000;

    private readonly Lock _lock = new();
    private readonly List<FakePlatformRequest> _received = [];
    private readonly Dictionary<Guid, FakePlatformAcceptance> _accepted = [];
    private readonly Queue<Guid> _acceptedOrder = new();
    private int _number;

    /// <summary>Every valid request, failed ones included.</summary>
    public IReadOnlyList<FakePlatformRequest> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>The first acceptance of each event: what a real platform would have stored.</summary>
    public IReadOnlyList<FakePlatformRequest> Exported => [.. Received.Where(r => r is { StatusCode: StatusCodes.Status200OK, Duplicate: false })];

    /// <summary>Requests whose key had already been accepted (our retries after a lost answer, or redeliveries).</summary>
    public int DuplicateCount => Received.Count(r => r.Duplicate);

    /// <summary>Requests received with this event id as Idempotency-Key, whatever they were answered.</summary>
    public int CountFor(Guid eventId) => Received.Count(r => r.EventId == eventId);

    public IReadOnlyList<FakePlatformRequest> ForOrder(Guid orderId) => [.. Received.Where(r => r.OrderId == orderId)];

    /// <summary>Forgets every request and every kept answer.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _received.Clear();
            _accepted.Clear();
            _acceptedOrder.Clear();
            _number = 0;
        }
    }

    /// <summary>Records a request answered 200: a new acceptance, or the kept one for a known key.</summary>
    internal FakePlatformAcceptance Accept(PlatformExportRequest request, string body)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var duplicate = _accepted.TryGetValue(request.EventId, out var acceptance);
            if (!duplicate)
            {
                acceptance = new FakePlatformAcceptance($"fake-{Guid.NewGuid():N}", request.EventId, request.OrderId, request.Sequence, now);
                _accepted[request.EventId] = acceptance;
                _acceptedOrder.Enqueue(request.EventId);
                while (_acceptedOrder.Count > Capacity)
                {
                    _accepted.Remove(_acceptedOrder.Dequeue());
                }
            }

            Add(request, body, now, StatusCodes.Status200OK, duplicate);
            return acceptance!;
        }
    }

    /// <summary>Records a request answered with a failure (<paramref name="statusCode"/> null: never answered in time).</summary>
    internal void RecordFailure(PlatformExportRequest request, string body, int? statusCode)
    {
        lock (_lock)
        {
            Add(request, body, time.GetUtcNow(), statusCode, _accepted.ContainsKey(request.EventId));
        }
    }

    private void Add(PlatformExportRequest request, string body, DateTimeOffset at, int? statusCode, bool duplicate)
    {
        if (_received.Count >= Capacity)
        {
            // A tenth at a time: removing from the front of a list moves the rest.
            _received.RemoveRange(0, Capacity / 10);
        }

        _received.Add(new FakePlatformRequest(++_number, request.EventId, request.OrderId, request.Sequence, body, at, statusCode, duplicate));
    }
}

/// <summary>
/// One request the fake platform received. <see cref="StatusCode"/> is what it was answered (null:
/// told to hang); <see cref="Duplicate"/> means its key had already been accepted before.
/// </summary>
public sealed record FakePlatformRequest(
    int Number,
    Guid EventId,
    Guid OrderId,
    int Sequence,
    string Body,
    DateTimeOffset ReceivedAt,
    int? StatusCode,
    bool Duplicate);

/// <summary>The fake platform's 200 body; the same for every request with the same key.</summary>
public sealed record FakePlatformAcceptance(string PlatformReference, Guid EventId, Guid OrderId, int Sequence, DateTimeOffset AcceptedAt);
