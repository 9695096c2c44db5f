using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace OrderExport.Messaging.Embedded;

/// <summary>
/// A Kafka-protocol broker inside this process: librdkafka's mock cluster, served over
/// loopback TCP. It speaks the real protocol (idempotent produce, consumer groups, commits,
/// transactions), so the service's ordinary Confluent.Kafka clients talk to it unchanged; its
/// checks of idempotent produce have one gap, named below.
///
/// DEVELOPMENT AND TEST ONLY: everything is in memory and lost on stop, each partition keeps
/// only about 5 MiB / 100k message sets (a consumer further behind loses data), the Admin API's
/// CreateTopics is not served (use <see cref="CreateTopic"/>), the whole cluster runs on one
/// thread, and an idempotent producer's sequence numbers are not checked (a request pipelined
/// behind one failed by <see cref="PushRequestErrors"/> is appended, where a real broker rejects
/// it, and a retried batch is appended again, where a real broker drops the duplicate). See
/// docs/decisions/0003-embedded-kafka-broker.md.
///
/// Create one per process and hand its <see cref="BootstrapServers"/> to every client: a client
/// configured with <c>test.mock.num.brokers</c> would get a private cluster of its own instead.
/// </summary>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    /// <summary>Kafka protocol API keys, for <see cref="PushRequestErrors"/>.</summary>
    public static class ApiKeys
    {
        public const short Produce = 0;
        public const short Fetch = 1;
        public const short ListOffsets = 2;
        public const short Metadata = 3;
        public const short OffsetCommit = 8;
        public const short OffsetFetch = 9;
        public const short FindCoordinator = 10;
        public const short InitProducerId = 22;
    }

    private readonly Lock _gate = new();
    private readonly MockClusterNative _native;
    private IntPtr _handle;
    private IntPtr _cluster;

    private EmbeddedKafkaCluster(MockClusterNative native, IntPtr handle, IntPtr cluster, int brokerCount, string bootstrapServers)
    {
        _native = native;
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    /// <summary>
    /// Starts <paramref name="brokerCount"/> brokers (ids 1..N) on free loopback ports, in
    /// <paramref name="library"/> (default: <see cref="LibrdkafkaLibrary.Default"/>,
    /// the same variant Confluent.Kafka's clients load).
    /// </summary>
    public static EmbeddedKafkaCluster Start(int brokerCount = 1, LibrdkafkaLibrary? library = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        var native = new MockClusterNative(library ?? LibrdkafkaLibrary.Default);

        var errorBuffer = Marshal.AllocHGlobal(512);
        try
        {
            var conf = native.ConfNew();
            // The host handle only carries the mock cluster; keep it quiet.
            native.ConfSet(conf, "log_level", "3", errorBuffer, 512);
            var handle = native.KafkaNew(MockClusterNative.RdKafkaProducer, conf, errorBuffer, 512);
            if (handle == IntPtr.Zero)
            {
                throw new InvalidOperationException(
                    $"Embedded Kafka: rd_kafka_new failed: {Marshal.PtrToStringUTF8(errorBuffer)}");
            }

            var cluster = native.ClusterNew(handle, brokerCount);
            if (cluster == IntPtr.Zero)
            {
                native.KafkaDestroy(handle);
                throw new InvalidOperationException("Embedded Kafka: rd_kafka_mock_cluster_new failed.");
            }

            var bootstrap = Marshal.PtrToStringUTF8(native.ClusterBootstraps(cluster))
                ?? throw new InvalidOperationException("Embedded Kafka: no bootstrap servers.");
            return new EmbeddedKafkaCluster(native, handle, cluster, brokerCount, bootstrap);
        }
        finally
        {
            Marshal.FreeHGlobal(errorBuffer);
        }
    }

    /// <summary>Creates a topic; the mock cluster does not serve the Admin API's CreateTopics.</summary>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var err = _native.TopicCreate(ClusterOrThrow(), name, partitions, Math.Min(replicationFactor, BrokerCount));
        if (err != 0)
        {
            throw new InvalidOperationException(
                $"Embedded Kafka: creating topic '{name}' failed: {_native.Describe(err)}");
        }
    }

    /// <summary>Takes a broker down: its connections are closed and new ones refused until <see cref="BrokerUp"/>.</summary>
    public void BrokerDown(int brokerId = 1) => Check(_native.BrokerSetDown(ClusterOrThrow(), brokerId), "set_down");

    public void BrokerUp(int brokerId = 1) => Check(_native.BrokerSetUp(ClusterOrThrow(), brokerId), "set_up");

    /// <summary>
    /// Moves a partition's leadership to <paramref name="brokerId"/>, as a controller does: from then
    /// on the old leader answers every produce and fetch for it with NOT_LEADER_FOR_PARTITION, and
    /// clients find the new leader through metadata (or the produce response's current-leader hint).
    /// The mock creates a topic it does not know, so name an existing one.
    /// </summary>
    public void MoveLeader(string topic, int partition, int brokerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        Check(_native.PartitionSetLeader(ClusterOrThrow(), topic, partition, brokerId), "partition_set_leader");
    }

    /// <summary>
    /// The next <c>errors.Length</c> requests of <paramref name="apiKey"/> (any broker) fail with
    /// these Kafka error codes, in order.
    /// </summary>
    public void PushRequestErrors(short apiKey, params ErrorCode[] errors)
    {
        _native.PushRequestErrors(ClusterOrThrow(), apiKey, errors.Select(e => (int)e).ToArray());
    }

    public void ClearRequestErrors(short apiKey) => _native.ClearRequestErrors(ClusterOrThrow(), apiKey);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != IntPtr.Zero)
            {
                _native.ClusterDestroy(_cluster);
                _cluster = IntPtr.Zero;
            }

            if (_handle != IntPtr.Zero)
            {
                _native.KafkaDestroy(_handle);
                _handle = IntPtr.Zero;
            }
        }
    }

    private IntPtr ClusterOrThrow()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            return _cluster;
        }
    }

    private void Check(int err, string operation)
    {
        if (err != 0)
        {
            throw new InvalidOperationException($"Embedded Kafka: {operation} failed: {_native.Describe(err)}");
        }
    }
}
