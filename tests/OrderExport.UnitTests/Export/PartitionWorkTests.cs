using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Export;
using OrderExport.Telemetry;

namespace OrderExport.UnitTests.Export;

/// <summary>
/// One partition's work without a broker: records of different orders run side by side up to the
/// bound, one order's records never do, and the stored offset is always the lowest not finished.
/// </summary>
public sealed class PartitionWorkTests
{
    private static readonly TopicPartition Partition = new("order-export", 0);

    [Fact]
    public async Task DifferentOrders_RunSideBySide_UpToTheBound_AndOneOrdersRecordsNeverDo()
    {
        var handler = new GatedHandler();
        using var work = Start(handler, maxInFlight: 3, out var stored);
        // Orders a, b, c, d, each twice, interleaved: a0 b1 c2 d3 a4 b5 c6 d7.
        for (var offset = 0; offset < 8; offset++)
        {
            work.Queue.Writer.TryWrite(Record(offset, "abcd"[offset % 4].ToString())).ShouldBeTrue();
        }

        await handler.WaitForRunningAsync(3);
        handler.Running.Keys.Select(o => o % 4).Order().ToArray().ShouldBe([0L, 1L, 2L], "three orders at once, the fourth waits for a slot");

        handler.ReleaseAll();
        await handler.WaitForFinishedAsync(8);
        handler.MaxRunningOfOneKey.ShouldBe(1, "an order's events never run side by side");
        handler.FinishedOrderOf("a").ShouldBe([0L, 4L]);
        handler.FinishedOrderOf("d").ShouldBe([3L, 7L]);
        await Eventually(() => stored.LastOrDefault() == 8);
        stored.ToArray().ShouldBe(stored.Order().ToArray(), "the stored offset never moves back");
        work.Stop(TimeSpan.Zero);
        await work.Work;
    }

    [Fact]
    public async Task OutOfOrderCompletion_StoresOnlyTheLowestUnfinished()
    {
        var handler = new GatedHandler();
        using var work = Start(handler, maxInFlight: 8, out var stored);
        for (var offset = 0; offset < 3; offset++)
        {
            work.Queue.Writer.TryWrite(Record(offset, $"order-{offset}"));
        }

        await handler.WaitForRunningAsync(3);
        handler.Release(2);
        handler.Release(1);
        await handler.WaitForFinishedAsync(2);
        stored.ShouldBeEmpty("offset 0 is still in hand");

        handler.Release(0);
        await Eventually(() => stored.LastOrDefault() == 3);
        // A finish the handler saw reaches the offset tracker a moment later, so 1 or 2 may be stored on
        // the way to 3 (each then the lowest unfinished offset); never anything while 0 was in hand, never backwards.
        stored.ToArray().ShouldBe([.. stored.Order()], "stored offsets never go backwards");
        stored.ShouldAllBe(offset => offset >= 1 && offset <= 3);
        work.Stop(TimeSpan.Zero);
        await work.Work;
    }

    [Fact]
    public async Task StoppedWithRecordsInFlight_StoresNothingPastTheLowestUnfinished()
    {
        var handler = new GatedHandler();
        using var work = Start(handler, maxInFlight: 4, out var stored);
        for (var offset = 0; offset < 4; offset++)
        {
            work.Queue.Writer.TryWrite(Record(offset, $"order-{offset}"));
        }

        await handler.WaitForRunningAsync(4);
        handler.Release(1);
        handler.Release(3);
        await handler.WaitForFinishedAsync(2);

        // Revoked: 0 and 2 are still in hand and get no grace: abandoned, so re-delivered to the next owner.
        work.Stop(TimeSpan.Zero);
        await work.Work;

        stored.ShouldBeEmpty("0 never finished: the next owner starts at 0 and the inbox skips 1 and 3");
        handler.Abandoned.Order().ToArray().ShouldBe([0L, 2L]);
    }

    [Fact]
    public async Task AnOrderHeldUp_DoesNotHoldUpTheOthers_ButItsLaterEventsWait()
    {
        var handler = new GatedHandler();
        using var work = Start(handler, maxInFlight: 4, out var stored);
        work.Queue.Writer.TryWrite(Record(0, "held"));
        work.Queue.Writer.TryWrite(Record(1, "other"));
        work.Queue.Writer.TryWrite(Record(2, "held"));
        work.Queue.Writer.TryWrite(Record(3, "other"));

        await handler.WaitForRunningAsync(2);
        handler.Release(1);
        await handler.WaitForRunningAsync(2, offset: 3);
        handler.Release(3);
        await handler.WaitForFinishedAsync(2);
        handler.Running.Keys.ToArray().ShouldBe([0L], "offset 2 waits behind offset 0 of its order");
        stored.ShouldBeEmpty();

        handler.Release(0);
        await handler.WaitForRunningAsync(1, offset: 2);
        handler.Release(2);
        await Eventually(() => stored.LastOrDefault() == 4);
        work.Stop(TimeSpan.Zero);
        await work.Work;
    }

    [Fact]
    public async Task WaitingRecords_AreCheckedTogether_AndOnlyThoseThatStartTheirOrdersLaneUseTheAnswer()
    {
        var (handler, checks) = (new GatedHandler(), new CheckRecorder());
        using var work = Start(handler, maxInFlight: 8, out _, checks.CheckAsync, checks.Seen);
        var (asked, firstCheck, given) = (checks.Asked, checks.FirstCheck, checks.Given);

        work.Queue.Writer.TryWrite(Record(0, "a"));
        await Eventually(() => !asked.IsEmpty);
        // While offset 0's check is out, four more arrive: a1 behind a0, b2 and b3 of one order, c4.
        foreach (var (offset, key) in new[] { (1, "a"), (2, "b"), (3, "b"), (4, "c") })
        {
            work.Queue.Writer.TryWrite(Record(offset, key));
        }

        firstCheck.SetResult();
        await handler.WaitForRunningAsync(3);
        handler.ReleaseAll();
        await handler.WaitForFinishedAsync(5);

        asked.ToArray().ShouldBe([[0L], [2L, 4L]], "one check per batch taken from the queue, for the records that start their order's lane");
        given[0].ShouldNotBeNull();
        given[1].ShouldBeNull("order a had offset 0 in hand: what 0 does may change what 1 must do");
        given[2].ShouldNotBeNull();
        given[3].ShouldBeNull("order b's first record in the batch runs first");
        given[4].ShouldNotBeNull();
        work.Stop(TimeSpan.Zero);
        await work.Work;
    }

    [Fact]
    public async Task ARecordWithoutKey_InTheBatch_LeavesEveryRecordToLookAlone()
    {
        var (handler, checks) = (new GatedHandler(), new CheckRecorder());
        using var work = Start(handler, maxInFlight: 8, out _, checks.CheckAsync, checks.Seen);
        var (asked, firstCheck, given) = (checks.Asked, checks.FirstCheck, checks.Given);

        work.Queue.Writer.TryWrite(Record(0, "a"));
        await Eventually(() => !asked.IsEmpty);
        // Its value may name any order: b's or c's standing may change when it runs.
        work.Queue.Writer.TryWrite(Record(1, key: null));
        work.Queue.Writer.TryWrite(Record(2, "b"));
        work.Queue.Writer.TryWrite(Record(3, "c"));
        firstCheck.SetResult();
        handler.ReleaseAll();
        await handler.WaitForFinishedAsync(4);

        asked.ToArray().ShouldBe([[0L]], "the batch with a keyless record is not checked");
        given[2].ShouldBeNull();
        given[3].ShouldBeNull();
        work.Stop(TimeSpan.Zero);
        await work.Work;
    }

    private static PartitionWork Start(GatedHandler handler, int maxInFlight, out ConcurrentQueue<long> stored,
        Func<IReadOnlyList<ConsumeResult<byte[], byte[]>>, CancellationToken, Task<PriorCheck?[]>>? check = null,
        Action<ConsumeResult<byte[], byte[]>, PriorCheck?>? seen = null)
    {
        var storedOffsets = new ConcurrentQueue<long>();
        stored = storedOffsets;
        var services = new ServiceCollection().AddMetrics().AddSingleton<OrderExportMetrics>().BuildServiceProvider();
        var progress = new ConsumerProgress(TimeProvider.System, services.GetRequiredService<OrderExportMetrics>()).Assigned(0);
        return new PartitionWork(Partition, progress, capacity: 100, maxInFlight,
            check ?? ((records, _) => Task.FromResult(new PriorCheck?[records.Count])),
            (record, prior, abandon) =>
            {
                seen?.Invoke(record, prior);
                return handler.HandleAsync(record, abandon);
            },
            offset => storedOffsets.Enqueue(offset.Offset.Value), ex => throw new InvalidOperationException("unexpected", ex),
            CancellationToken.None, CancellationToken.None);
    }

    private static ConsumeResult<byte[], byte[]> Record(long offset, string? key) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(Partition, offset),
        Message = new Message<byte[], byte[]> { Key = key is null ? null! : Encoding.UTF8.GetBytes(key), Value = [] },
    };

    private static async Task Eventually(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>Records what was checked together (the first check waits for the test) and what check each record got.</summary>
    private sealed class CheckRecorder
    {
        public ConcurrentQueue<long[]> Asked { get; } = new();

        public TaskCompletionSource FirstCheck { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentDictionary<long, PriorCheck?> Given { get; } = new();

        public async Task<PriorCheck?[]> CheckAsync(IReadOnlyList<ConsumeResult<byte[], byte[]>> records, CancellationToken cancellationToken)
        {
            Asked.Enqueue([.. records.Select(r => r.Offset.Value)]);
            await FirstCheck.Task;
            return [.. records.Select(r => (PriorCheck?)new PriorCheck(Guid.NewGuid(), Guid.NewGuid(), Handled: false))];
        }

        public void Seen(ConsumeResult<byte[], byte[]> record, PriorCheck? check) => Given[record.Offset.Value] = check;
    }

    /// <summary>Each record runs until the test releases its offset; records what ran when.</summary>
    private sealed class GatedHandler
    {
        private readonly ConcurrentDictionary<long, TaskCompletionSource> _gates = new();
        private readonly ConcurrentDictionary<string, int> _runningPerKey = new();
        private readonly ConcurrentQueue<(string Key, long Offset)> _finished = new();
        private int _maxRunningOfOneKey;

        public ConcurrentDictionary<long, string> Running { get; } = new();

        public ConcurrentBag<long> Abandoned { get; } = [];

        public int MaxRunningOfOneKey => Volatile.Read(ref _maxRunningOfOneKey);

        public async Task HandleAsync(ConsumeResult<byte[], byte[]> record, CancellationToken abandon)
        {
            var key = record.Message.Key is { } bytes ? Encoding.UTF8.GetString(bytes) : "";
            var offset = record.Offset.Value;
            var running = _runningPerKey.AddOrUpdate(key, 1, (_, n) => n + 1);
            InterlockedMax(ref _maxRunningOfOneKey, running);
            Running[offset] = key;
            try
            {
                await Gate(offset).Task.WaitAsync(abandon);
                _finished.Enqueue((key, offset));
            }
            catch (OperationCanceledException)
            {
                Abandoned.Add(offset);
                throw;
            }
            finally
            {
                Running.TryRemove(offset, out _);
                _runningPerKey.AddOrUpdate(key, 0, (_, n) => n - 1);
            }
        }

        public void Release(long offset) => Gate(offset).TrySetResult();

        public void ReleaseAll()
        {
            for (long offset = 0; offset < 100; offset++)
            {
                Release(offset);
            }
        }

        public long[] FinishedOrderOf(string key) => [.. _finished.Where(f => f.Key == key).Select(f => f.Offset)];

        public Task WaitForRunningAsync(int count, long? offset = null) =>
            Eventually(() => Running.Count >= count && (offset is null || Running.ContainsKey(offset.Value)));

        public Task WaitForFinishedAsync(int count) => Eventually(() => _finished.Count >= count);

        private TaskCompletionSource Gate(long offset) =>
            _gates.GetOrAdd(offset, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }
}
