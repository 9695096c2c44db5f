using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace OrderExport.Messaging.Embedded;

/// <summary>
/// The functions of librdkafka's mock cluster (rdkafka_mock.h) that we need, bound by function
/// pointer from a <see cref="LibrdkafkaLibrary"/>: Confluent.Kafka does not wrap them, and a
/// <c>DllImport("librdkafka")</c> would bind only the package's default build, which does not
/// load on Debian (see <see cref="LibrdkafkaLibrary"/>).
/// </summary>
internal sealed unsafe class MockClusterNative(LibrdkafkaLibrary library)
{
    public const int RdKafkaProducer = 0;

    private readonly delegate* unmanaged<IntPtr> _confNew = (delegate* unmanaged<IntPtr>)library.Export("rd_kafka_conf_new");
    private readonly delegate* unmanaged<IntPtr, byte*, byte*, IntPtr, UIntPtr, int> _confSet =
        (delegate* unmanaged<IntPtr, byte*, byte*, IntPtr, UIntPtr, int>)library.Export("rd_kafka_conf_set");
    private readonly delegate* unmanaged<int, IntPtr, IntPtr, UIntPtr, IntPtr> _kafkaNew =
        (delegate* unmanaged<int, IntPtr, IntPtr, UIntPtr, IntPtr>)library.Export("rd_kafka_new");
    private readonly delegate* unmanaged<IntPtr, void> _kafkaDestroy = (delegate* unmanaged<IntPtr, void>)library.Export("rd_kafka_destroy");
    private readonly delegate* unmanaged<IntPtr, int, IntPtr> _clusterNew = (delegate* unmanaged<IntPtr, int, IntPtr>)library.Export("rd_kafka_mock_cluster_new");
    private readonly delegate* unmanaged<IntPtr, void> _clusterDestroy = (delegate* unmanaged<IntPtr, void>)library.Export("rd_kafka_mock_cluster_destroy");
    private readonly delegate* unmanaged<IntPtr, IntPtr> _clusterBootstraps = (delegate* unmanaged<IntPtr, IntPtr>)library.Export("rd_kafka_mock_cluster_bootstraps");
    private readonly delegate* unmanaged<IntPtr, byte*, int, int, int> _topicCreate =
        (delegate* unmanaged<IntPtr, byte*, int, int, int>)library.Export("rd_kafka_mock_topic_create");
    private readonly delegate* unmanaged<IntPtr, int, int> _brokerSetDown = (delegate* unmanaged<IntPtr, int, int>)library.Export("rd_kafka_mock_broker_set_down");
    private readonly delegate* unmanaged<IntPtr, int, int> _brokerSetUp = (delegate* unmanaged<IntPtr, int, int>)library.Export("rd_kafka_mock_broker_set_up");
    private readonly delegate* unmanaged<IntPtr, byte*, int, int, int> _partitionSetLeader =
        (delegate* unmanaged<IntPtr, byte*, int, int, int>)library.Export("rd_kafka_mock_partition_set_leader");
    // The _array variant, not the variadic rd_kafka_mock_push_request_errors: variadic calls
    // cannot be made portably.
    private readonly delegate* unmanaged<IntPtr, short, UIntPtr, int*, void> _pushRequestErrors =
        (delegate* unmanaged<IntPtr, short, UIntPtr, int*, void>)library.Export("rd_kafka_mock_push_request_errors_array");
    private readonly delegate* unmanaged<IntPtr, short, void> _clearRequestErrors = (delegate* unmanaged<IntPtr, short, void>)library.Export("rd_kafka_mock_clear_request_errors");
    private readonly delegate* unmanaged<int, IntPtr> _errorToString = (delegate* unmanaged<int, IntPtr>)library.Export("rd_kafka_err2str");

    public IntPtr ConfNew() => _confNew();

    public int ConfSet(IntPtr conf, string name, string value, IntPtr errstr, UIntPtr errstrSize)
    {
        var nameUtf8 = Utf8StringMarshaller.ConvertToUnmanaged(name);
        var valueUtf8 = Utf8StringMarshaller.ConvertToUnmanaged(value);
        try
        {
            return _confSet(conf, nameUtf8, valueUtf8, errstr, errstrSize);
        }
        finally
        {
            Utf8StringMarshaller.Free(nameUtf8);
            Utf8StringMarshaller.Free(valueUtf8);
        }
    }

    public IntPtr KafkaNew(int type, IntPtr conf, IntPtr errstr, UIntPtr errstrSize) => _kafkaNew(type, conf, errstr, errstrSize);

    public void KafkaDestroy(IntPtr rk) => _kafkaDestroy(rk);

    public IntPtr ClusterNew(IntPtr rk, int brokerCount) => _clusterNew(rk, brokerCount);

    public void ClusterDestroy(IntPtr mcluster) => _clusterDestroy(mcluster);

    public IntPtr ClusterBootstraps(IntPtr mcluster) => _clusterBootstraps(mcluster);

    public int TopicCreate(IntPtr mcluster, string topic, int partitionCount, int replicationFactor) =>
        WithUtf8(topic, name => _topicCreate(mcluster, name, partitionCount, replicationFactor));

    public int BrokerSetDown(IntPtr mcluster, int brokerId) => _brokerSetDown(mcluster, brokerId);

    public int BrokerSetUp(IntPtr mcluster, int brokerId) => _brokerSetUp(mcluster, brokerId);

    public int PartitionSetLeader(IntPtr mcluster, string topic, int partition, int brokerId) =>
        WithUtf8(topic, name => _partitionSetLeader(mcluster, name, partition, brokerId));

    public void PushRequestErrors(IntPtr mcluster, short apiKey, int[] errors)
    {
        fixed (int* codes = errors)
        {
            _pushRequestErrors(mcluster, apiKey, (UIntPtr)errors.Length, codes);
        }
    }

    public void ClearRequestErrors(IntPtr mcluster, short apiKey) => _clearRequestErrors(mcluster, apiKey);

    private delegate int Utf8Call(byte* utf8);

    /// <summary>Calls <paramref name="call"/> with <paramref name="value"/> as a NUL-terminated UTF-8 copy, freed afterwards.</summary>
    private static int WithUtf8(string value, Utf8Call call)
    {
        var utf8 = Utf8StringMarshaller.ConvertToUnmanaged(value);
        try
        {
            return call(utf8);
        }
        finally
        {
            Utf8StringMarshaller.Free(utf8);
        }
    }

    public string Describe(int err) => Marshal.PtrToStringUTF8(_errorToString(err)) ?? $"error {err}";
}
