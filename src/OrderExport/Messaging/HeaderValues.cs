using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace OrderExport.Messaging;

/// <summary>
/// UTF-8 header values that repeat on every record (event type, schema version), encoded once.
/// The producer copies header bytes when it takes a record, so one array serves every record.
/// </summary>
public static class HeaderValues
{
    // The service writes a handful of event types and versions; past this many, values are not kept.
    private const int MaxKept = 64;

    private static readonly ConcurrentDictionary<string, byte[]> Texts = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<int, byte[]> Numbers = new();

    public static byte[] Utf8(string value) => Kept(Texts, value, static v => Encoding.UTF8.GetBytes(v));

    public static byte[] Utf8(int value) => Kept(Numbers, value, static v => Encoding.UTF8.GetBytes(v.ToString(CultureInfo.InvariantCulture)));

    private static byte[] Kept<T>(ConcurrentDictionary<T, byte[]> kept, T value, Func<T, byte[]> encode)
        where T : notnull =>
        kept.TryGetValue(value, out var bytes) ? bytes
        : kept.Count < MaxKept ? kept.GetOrAdd(value, encode)
        : encode(value);
}
