using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Options;
using OrderExport.Export;
using OrderExport.Messaging;

namespace OrderExport.Operations;

/// <summary>
/// The broker as Kafka UI shows it: brokers, the service's two topics with each partition's end
/// offset, and the consumer group with its members and committed offsets. Each panel is asked on
/// its own; a call the broker cannot answer (librdkafka's mock cluster, the embedded broker, does
/// not implement every admin API) becomes that panel's error in words, and the others still show.
/// One admin client and one watermark consumer (which never joins a group), made on first use.
/// Answers are kept for a second, so many open pages cost the broker no more than one.
/// </summary>
public sealed class KafkaInspector(KafkaConnection connection, IOptions<KafkaOptions> options, ConsumerProgress consumer) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan KeepFor = TimeSpan.FromSeconds(1);

    /// <summary>A call that failed is not asked again for this long (the mock cluster takes the full timeout to fail DescribeCluster).</summary>
    private static readonly TimeSpan RetryFailedAfter = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, (string Error, DateTime Until)> _failed = [];

    private readonly Lazy<IAdminClient> _admin = new(() => connection.QuietAdminClient(Timeout));

    // A group id is required to build a consumer; this one never subscribes, joins or commits.
    private readonly Lazy<IConsumer<byte[], byte[]>> _watermarks = new(() =>
        new ConsumerBuilder<byte[], byte[]>(connection.ConsumerConfig("order-export-operations-page")).SetLogHandler((_, _) => { }).Build());

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (KafkaView View, DateTime At)? _last;

    public async Task<KafkaView> ViewAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } last && DateTime.UtcNow - last.At < KeepFor)
            {
                return last.View;
            }

            var view = await Task.Run(InspectAsync, cancellationToken);
            _last = (view, DateTime.UtcNow);
            return view;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<KafkaView> InspectAsync()
    {
        var kafka = options.Value;
        var cluster = await Panel("DescribeCluster", DescribeClusterAsync);
        Metadata? metadata = null;
        var topics = new List<TopicView>();
        try
        {
            metadata = _admin.Value.GetMetadata(Timeout);
        }
        catch (KafkaException ex)
        {
            topics.Add(new TopicView(kafka.Topic, null, $"Metadata request failed: {ex.Error.Reason}"));
            topics.Add(new TopicView(kafka.DeadLetterTopic, null, $"Metadata request failed: {ex.Error.Reason}"));
        }

        if (metadata is not null)
        {
            topics.Add(Topic(metadata, kafka.Topic));
            topics.Add(Topic(metadata, kafka.DeadLetterTopic));
            if (cluster.Error is not null && metadata.Brokers.Count > 0)
            {
                // DescribeCluster failed: the metadata still names the brokers (not the controller).
                cluster = new Panel<ClusterView>(
                    new ClusterView(null, null, [.. metadata.Brokers.Select(b => new BrokerView(b.BrokerId, b.Host, b.Port))]),
                    $"{cluster.Error}; brokers below are from the metadata response, which does not name the controller.");
            }
        }

        var main = topics.FirstOrDefault(t => t.Name == kafka.Topic)?.Partitions;
        var group = await GroupAsync(kafka.ConsumerGroup, kafka.Topic, main);
        var assigned = consumer.Snapshot().Select(p => p.Partition).ToList();
        return new KafkaView(connection.BootstrapServers, connection.IsEmbedded, cluster, topics, group, assigned);
    }

    private async Task<ClusterView> DescribeClusterAsync()
    {
        var result = await _admin.Value.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Timeout });
        return new ClusterView(result.ClusterId, result.Controller?.Id,
            [.. result.Nodes.Select(n => new BrokerView(n.Id, n.Host, n.Port))]);
    }

    private TopicView Topic(Metadata metadata, string name)
    {
        var topic = metadata.Topics.SingleOrDefault(t => t.Topic == name);
        if (topic is null || topic.Error.IsError)
        {
            return new TopicView(name, null, $"Topic not available: {topic?.Error.Reason ?? "not in the metadata"}");
        }

        var partitions = new List<PartitionView>();
        string? error = null;
        foreach (var partition in topic.Partitions.OrderBy(p => p.PartitionId))
        {
            long? end = null, start = null;
            try
            {
                var watermarks = _watermarks.Value.QueryWatermarkOffsets(new TopicPartition(name, partition.PartitionId), Timeout);
                (start, end) = (watermarks.Low.Value, watermarks.High.Value);
            }
            catch (KafkaException ex)
            {
                error = $"End offsets unknown: {ex.Error.Reason}";
            }

            partitions.Add(new PartitionView(partition.PartitionId, partition.Leader, partition.Replicas.Length, start, end));
        }

        return new TopicView(name, partitions, error);
    }

    private async Task<GroupView> GroupAsync(string groupId, string topic, IReadOnlyList<PartitionView>? partitions)
    {
        var description = await Panel("DescribeConsumerGroups", async () =>
        {
            var result = await _admin.Value.DescribeConsumerGroupsAsync([groupId], new DescribeConsumerGroupsOptions { RequestTimeout = Timeout });
            var group = result.ConsumerGroupDescriptions.Single();
            if (group.Error is { IsError: true } error)
            {
                throw new KafkaException(error);
            }

            return new GroupDescriptionView(group.State.ToString(), group.PartitionAssignor, group.Coordinator?.Id,
                [.. group.Members.Select(m => new MemberView(m.ConsumerId, m.ClientId, m.Host,
                    [.. m.Assignment.TopicPartitions.Select(tp => new AssignedPartition(tp.Topic, tp.Partition.Value))]))]);
        });

        var offsets = await Panel("ListConsumerGroupOffsets", async () =>
        {
            if (partitions is null)
            {
                throw new InvalidOperationException($"the partitions of {topic} are unknown");
            }

            var result = await _admin.Value.ListConsumerGroupOffsetsAsync(
                [new ConsumerGroupTopicPartitions(groupId, [.. partitions.Select(p => new TopicPartition(topic, p.Partition))])],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout });
            var committed = result.Single().Partitions.ToDictionary(p => p.Partition.Value, p => p.Offset.Value);
            return (IReadOnlyList<GroupOffsetView>)[.. partitions.Select(p =>
            {
                long? at = committed.TryGetValue(p.Partition, out var c) && c >= 0 ? c : null;
                // Nothing committed on an empty partition: nothing to consume, so no lag either.
                long? lag = at is { } a && p.EndOffset is { } end ? Math.Max(0, end - a)
                    : at is null && p.EndOffset is { } e && e == p.StartOffset ? 0 : null;
                return new GroupOffsetView(topic, p.Partition, at, p.EndOffset, lag);
            })];
        });

        return new GroupView(groupId, description, offsets);
    }

    private async Task<Panel<T>> Panel<T>(string name, Func<Task<T>> call)
    {
        if (_failed.TryGetValue(name, out var failed) && DateTime.UtcNow < failed.Until)
        {
            return new Panel<T>(default, failed.Error);
        }

        string error;
        try
        {
            var data = await call();
            _failed.Remove(name);
            return new Panel<T>(data, null);
        }
        catch (KafkaException ex)
        {
            error = $"{name}: the broker did not answer: {ex.Error.Reason} ({ex.Error.Code})";
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or NotSupportedException)
        {
            error = $"{name}: not available: {ex.Message}";
        }

        _failed[name] = (error, DateTime.UtcNow + RetryFailedAfter);
        return new Panel<T>(default, error);
    }

    public void Dispose()
    {
        if (_watermarks.IsValueCreated)
        {
            _watermarks.Value.Dispose();
        }

        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }

        _gate.Dispose();
    }
}

/// <summary>A panel's data, or, when the broker could not answer, why (in words; the page shows it).</summary>
public sealed record Panel<T>(T? Data, string? Error);

/// <summary><see cref="ThisInstancePartitions"/>: what this instance's consumer owns, from the consumer itself (not the broker).</summary>
public sealed record KafkaView(
    string BootstrapServers, bool Embedded, Panel<ClusterView> Cluster, IReadOnlyList<TopicView> Topics, GroupView Group,
    IReadOnlyList<int> ThisInstancePartitions);

public sealed record ClusterView(string? ClusterId, int? ControllerId, IReadOnlyList<BrokerView> Brokers);

public sealed record BrokerView(int Id, string Host, int Port);

/// <summary>A topic with each partition's end offset (high watermark); <see cref="Error"/> says what is missing.</summary>
public sealed record TopicView(string Name, IReadOnlyList<PartitionView>? Partitions, string? Error);

/// <summary>A partition with its start (low watermark) and end (high watermark) offsets.</summary>
public sealed record PartitionView(int Partition, int Leader, int Replicas, long? StartOffset, long? EndOffset);

public sealed record GroupView(string GroupId, Panel<GroupDescriptionView> Description, Panel<IReadOnlyList<GroupOffsetView>> Offsets);

public sealed record GroupDescriptionView(string State, string? PartitionAssignor, int? CoordinatorId, IReadOnlyList<MemberView> Members);

public sealed record MemberView(string ConsumerId, string ClientId, string Host, IReadOnlyList<AssignedPartition> Partitions);

public sealed record AssignedPartition(string Topic, int Partition);

/// <summary>The group's committed offset on one partition (null: none committed) and its lag to the partition's end.</summary>
public sealed record GroupOffsetView(string Topic, int Partition, long? Committed, long? EndOffset, long? Lag);
