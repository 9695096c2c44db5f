namespace OrderExport.Export;

/// <summary>
/// The order a record's key names, when the key is an order id exactly as the service writes it
/// (lower-case, hyphenated). Another spelling of the same id (upper case, braces) hashes to another
/// partition than the order's own records, so it must not hold that order.
/// </summary>
public static class OrderIdKey
{
    public static Guid? From(IncomingRecord record) => From(record.KeyText);

    public static Guid? From(byte[]? key) => key is null ? null : From(System.Text.Encoding.UTF8.GetString(key));

    private static Guid? From(string key) =>
        Guid.TryParseExact(key, "D", out var orderId) && orderId.ToString() == key ? orderId : null;
}
