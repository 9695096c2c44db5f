using Confluent.Kafka;

namespace OrderExport.Export;

/// <summary>
/// The poll loop's partitions: each one's <see cref="PartitionWork"/>, back-pressure (a partition
/// whose queue is full is paused, with the record that did not fit held until there is room), and
/// how far behind each partition's end the work is. Used by the poll loop's thread only.
/// </summary>
internal sealed partial class AssignedPartitions(
    ConsumerProgress progress, int queuePerPartition, Func<TopicPartition, PartitionProgress, PartitionWork> start, ILogger logger)
{
    private static readonly TimeSpan CommittedTimeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(30);

    private readonly Dictionary<TopicPartition, PartitionWork> _work = [];
    private readonly Dictionary<TopicPartition, ConsumeResult<byte[], byte[]>> _held = [];

    public bool AnyHeld => _held.Count > 0;

    /// <summary>Hands a fetched record to its partition's work, or pauses the partition when the work is that far behind.</summary>
    public void Offer(IConsumer<byte[], byte[]> consumer, ConsumeResult<byte[], byte[]> result)
    {
        var partition = result.TopicPartition;
        if (_held.ContainsKey(partition))
        {
            // Fetched before the pause took hold (librdkafka should not hand it out): read the
            // partition again from right after the held record (the same point however often this
            // happens), rather than queue this one ahead of it.
            consumer.Seek(new TopicPartitionOffset(partition, _held[partition].Offset.Value + 1));
            return;
        }

        if (!_work.TryGetValue(partition, out var work))
        {
            work = start(partition, progress.For(partition.Partition.Value));
            _work[partition] = work;
        }

        // Before the work can see it, so a finish never comes before its fetch.
        work.Progress.Fetched(result.Offset.Value, result.Message.Key);
        if (!work.Queue.Writer.TryWrite(result))
        {
            // The work is that far behind (a platform outage, say). Pausing only its partition
            // keeps the others flowing and the loop polling, so the group does not take the
            // partitions away while the records in hand are retried.
            _held[partition] = result;
            consumer.Pause([partition]);
        }
    }

    /// <summary>
    /// Offers each held record again. Resumes at half full, not at the first free slot: each pause
    /// drops what the client had fetched ahead for the partition, and each resume fetches anew
    /// (pausing per record halved the consumer's rate in the benchmark).
    /// </summary>
    public void ResumeWhereRoom(IConsumer<byte[], byte[]> consumer)
    {
        foreach (var (partition, waiting) in _held.ToList())
        {
            var queue = _work[partition].Queue;
            if (queue.Reader.Count <= queuePerPartition / 2 && queue.Writer.TryWrite(waiting))
            {
                _held.Remove(partition);
                consumer.Resume([partition]);
            }
        }
    }

    /// <summary>
    /// Stops the partitions' work: records in hand get <paramref name="grace"/> to finish and be
    /// stored; what was queued or abandoned was not stored, so the next owner starts right there.
    /// </summary>
    public void Stop(IConsumer<byte[], byte[]> consumer, IReadOnlyCollection<TopicPartition> partitions, TimeSpan grace)
    {
        foreach (var partition in partitions.Where(_held.Remove))
        {
            consumer.Resume([partition]);
        }

        var stopping = new List<PartitionWork>();
        foreach (var partition in partitions)
        {
            if (_work.Remove(partition, out var work))
            {
                work.Stop(grace);
                stopping.Add(work);
            }
        }

        foreach (var work in stopping)
        {
            // Work never faults (see PartitionWork). Its records in hand stop at the grace, unless a
            // handler ignores cancellation: then the rebalance goes on without it, rather than hang.
            if (((IAsyncResult)work.Work).AsyncWaitHandle.WaitOne(grace + StopMargin))
            {
                work.Dispose();
            }
            else
            {
                LogStopTimedOut(work.Progress.Snapshot().Partition, grace + StopMargin);
            }
        }
    }

    public void StopAll(IConsumer<byte[], byte[]> consumer) => Stop(consumer, [.. _work.Keys, .. _held.Keys], TimeSpan.Zero);

    /// <summary>
    /// The partitions' ends as of the last fetch (no broker round trip), and, for a partition that
    /// fetched nothing yet (caught up at its assignment), the group's committed offset, asked once.
    /// </summary>
    public void ObserveEnds(IConsumer<byte[], byte[]> consumer)
    {
        var assigned = consumer.Assignment;
        var committed = new Dictionary<TopicPartition, long>();
        var unknown = assigned.Where(p => progress.For(p.Partition.Value).NeedsCommitted).ToList();
        if (unknown.Count > 0)
        {
            try
            {
                foreach (var offset in consumer.Committed(unknown, CommittedTimeout))
                {
                    committed[offset.TopicPartition] = offset.Offset.Value;
                }
            }
            catch (KafkaException ex)
            {
                // Asked again on the next round; the lag stays unknown meanwhile.
                LogCommittedUnknown(ex.Error.Code, ex.Error.Reason);
            }
        }

        foreach (var partition in assigned)
        {
            progress.For(partition.Partition.Value).Observe(
                consumer.GetWatermarkOffsets(partition).High.Value, committed.GetValueOrDefault(partition, Offset.Unset.Value));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}'s work did not stop within {Timeout}; going on without it (its unstored records are re-delivered)")]
    private partial void LogStopTimedOut(int partition, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committed offsets unknown for now ({KafkaErrorCode}: {KafkaReason}); the lag of idle partitions waits for them")]
    private partial void LogCommittedUnknown(ErrorCode kafkaErrorCode, string kafkaReason);
}
