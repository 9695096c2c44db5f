using System.Text;
using Confluent.Kafka;

namespace OrderExport.Export;

/// <summary>
/// A record as the export handler sees it: from Kafka, or from the parked table when an order
/// is released. Keys and values stay bytes until the handler decides they are readable.
/// </summary>
public sealed record IncomingRecord(
    string Topic, int Partition, long Offset, byte[]? Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]>> Headers)
{
    public static IncomingRecord From(ConsumeResult<byte[], byte[]> result) => new(
        result.Topic,
        result.Partition.Value,
        result.Offset.Value,
        result.Message.Key,
        result.Message.Value,
        // A header with a null value is legal in Kafka; it counts as absent (Header() reads text).
        result.Message.Headers?.Where(h => h.GetValueBytes() is not null)
            .Select(h => new KeyValuePair<string, byte[]>(h.Key, h.GetValueBytes())).ToList() ?? []);

    public static IncomingRecord FromParked(ParkedMessage parked) => new(
        parked.Topic, parked.Partition, parked.Offset,
        Encoding.UTF8.GetBytes(parked.OrderId.ToString()), RecordText.ToBytes(parked.Payload), []);

    public string? Header(string name)
    {
        for (var i = Headers.Count - 1; i >= 0; i--)
        {
            if (Headers[i].Key == name)
            {
                return Encoding.UTF8.GetString(Headers[i].Value);
            }
        }

        return null;
    }

    public string KeyText => Key is null ? "" : Encoding.UTF8.GetString(Key);
}
