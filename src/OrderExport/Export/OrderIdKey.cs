namespace OrderExport.Export;

/// <summary>
/// The order a record's key names, when the key is an order id exactly as the service writes it
/// (lower-case, hyphenated). Another spelling of the same id (upper case, braces) hashes to another
/// partition than the order's own records, so it must not hold that order.
/// </summary>
public static class OrderIdKey
{
    public static Guid? From(IncomingRecord record) =>
        Guid.TryParseExact(record.KeyText, "D", out var orderId) && orderId.ToString() == record.KeyText ? orderId : null;
}
