using System.Threading.Channels;
using Confluent.Kafka;

namespace OrderExport.Export;

/// <summary>
/// The records of one partition, handled key by key: records of different keys (orders) run side
/// by side, up to <c>maxInFlight</c> at once, while one key's records run strictly one after
/// another in offset order (so an order's events, its dead letter, parking and release keep their
/// order). The offset stored for the partition is always the lowest one not finished
/// (<see cref="OffsetTracker"/>), stored only by this class. <see cref="Stop"/> takes no new record;
/// the records in hand get a grace to finish, then are abandoned: unstored, they are re-delivered.
/// The records waiting in the queue are taken a batch at a time, and checked against the database
/// in one query (<see cref="PriorChecks"/>) where nothing can change the answer before they run.
/// </summary>
internal sealed class PartitionWork : IDisposable
{
    /// <summary>Records taken from the queue and checked together, at most.</summary>
    internal const int CheckBatch = 100;

    private readonly TopicPartition _partition;
    private readonly PartitionProgress _progress;
    private readonly Func<IReadOnlyList<ConsumeResult<byte[], byte[]>>, CancellationToken, Task<PriorCheck?[]>> _check;
    private readonly Func<ConsumeResult<byte[], byte[]>, PriorCheck?, CancellationToken, Task> _handle;
    private readonly Action<TopicPartitionOffset> _store;
    private readonly Action<Exception> _fail;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopped;
    private readonly CancellationTokenSource _abandon;
    private readonly Lock _lock = new();
    private readonly OffsetTracker _offsets = new();

    // A key with a record in hand, and that key's records waiting behind it, in offset order.
    private readonly Dictionary<string, Queue<ConsumeResult<byte[], byte[]>>> _lanes = [];
    // The lanes running now (each removes itself when it ends).
    private readonly HashSet<Task> _running = [];

    public PartitionWork(TopicPartition partition, PartitionProgress progress, int capacity, int maxInFlight,
        Func<IReadOnlyList<ConsumeResult<byte[], byte[]>>, CancellationToken, Task<PriorCheck?[]>> check,
        Func<ConsumeResult<byte[], byte[]>, PriorCheck?, CancellationToken, Task> handle, Action<TopicPartitionOffset> store, Action<Exception> fail,
        CancellationToken running, CancellationToken stopping)
    {
        _partition = partition;
        _progress = progress;
        _check = check;
        _handle = handle;
        _store = store;
        _fail = fail;
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        _stopped = CancellationTokenSource.CreateLinkedTokenSource(running);
        _abandon = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Queue = Channel.CreateBounded<ConsumeResult<byte[], byte[]>>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        Work = Task.Run(DispatchAsync, CancellationToken.None);
    }

    /// <summary>Records fetched for this partition, in offset order; written by the poll loop only.</summary>
    public Channel<ConsumeResult<byte[], byte[]>> Queue { get; }

    public PartitionProgress Progress => _progress;

    /// <summary>Ends when nothing of this partition runs any more (never faults: failures go to <c>fail</c>).</summary>
    public Task Work { get; }

    /// <summary>Takes no new record; what is in hand may finish within <paramref name="grace"/>, then is abandoned.</summary>
    public void Stop(TimeSpan grace)
    {
        _stopped.Cancel();
        Queue.Writer.TryComplete();
        _abandon.CancelAfter(grace);
    }

    public void Dispose()
    {
        _stopped.Dispose();
        _abandon.Dispose();
        _slots.Dispose();
    }

    private async Task DispatchAsync()
    {
        var batch = new FetchedBatch(CheckBatch);
        try
        {
            while (await Queue.Reader.WaitToReadAsync(_stopped.Token))
            {
                lock (_lock)
                {
                    batch.Take(Queue.Reader, inHand: _lanes.ContainsKey);
                }

                var checks = batch.Checkable.Count > 0 ? await _check(batch.Checkable, _stopped.Token) : [];
                for (var i = 0; i < batch.Records.Count && !_stopped.IsCancellationRequested; i++)
                {
                    await DispatchAsync(batch.Records[i], batch.Keys[i], batch.CheckOf(i, checks));
                }
            }
        }
        catch (OperationCanceledException) when (_stopped.IsCancellationRequested)
        {
            // Stopped: what was not started is not stored, so the partition's next owner gets it.
        }
        catch (Exception ex)
        {
            // An offset the partition should not deliver (see OffsetTracker), or a bug: the poll
            // loop stops the consumer rather than let this partition sit paused and look alive.
            _fail(ex);
        }

        Task[] lanes;
        lock (_lock)
        {
            lanes = [.. _running];
        }

        await Task.WhenAll(lanes);
    }

    /// <summary>Starts the record's lane, or queues it behind its key's record in hand (its check then no longer holds).</summary>
    private async Task DispatchAsync(ConsumeResult<byte[], byte[]> record, string key, PriorCheck? check)
    {
        lock (_lock)
        {
            _offsets.Add(record.Offset.Value);
            if (_lanes.TryGetValue(key, out var waiting))
            {
                waiting.Enqueue(record);
                return;
            }

            _lanes[key] = new Queue<ConsumeResult<byte[], byte[]>>();
        }

        await _slots.WaitAsync(_stopped.Token);
        var lane = RunLaneAsync(key, record, check);
        lock (_lock)
        {
            _running.Add(lane);
        }

        _ = lane.ContinueWith(ended => { lock (_lock) { _running.Remove(ended); } },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task RunLaneAsync(string key, ConsumeResult<byte[], byte[]> first, PriorCheck? firstCheck)
    {
        await Task.Yield();
        try
        {
            var check = firstCheck;
            for (var record = first; record is not null; record = Next(key), check = null)
            {
                await _handle(record, check, _abandon.Token);
                Finish(record);
            }
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            // Abandoned while stopping: unstored, re-delivered to the next owner.
        }
        catch (Exception ex)
        {
            _fail(ex);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The key's next record, or null (and the key's lane closes) when none waits or the work stops.</summary>
    private ConsumeResult<byte[], byte[]>? Next(string key)
    {
        lock (_lock)
        {
            if (!_stopped.IsCancellationRequested && _lanes[key].TryDequeue(out var next))
            {
                return next;
            }

            _lanes.Remove(key);
            return null;
        }
    }

    private void Finish(ConsumeResult<byte[], byte[]> record)
    {
        _progress.Finished(record.Offset.Value);
        lock (_lock)
        {
            // Under the lock: two lanes finishing at once must store in the order their points moved.
            if (_offsets.Finish(record.Offset.Value) is { } commitPoint)
            {
                _store(new TopicPartitionOffset(_partition, commitPoint));
            }
        }
    }
}
