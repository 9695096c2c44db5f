using System.Text;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>Record values written straight to order-export by tests, in the service's envelope contract.</summary>
public static class TestEnvelopes
{
    /// <summary>A well-formed v1 <c>OrderExportRequested</c> envelope of <paramref name="orderId"/>, with at most one thing changed (<paramref name="type"/> is JSON text).</summary>
    public static byte[] Envelope(Guid orderId, string type = "OrderExportRequested", int version = 1, int sequence = 1, Guid? payloadOrder = null) =>
        Encoding.UTF8.GetBytes($$$"""
            {"eventId":"{{{Guid.NewGuid()}}}","type":"{{{type}}}","schemaVersion":{{{version}}},"occurredAt":"2026-11-21T10:00:00Z",
             "orderId":"{{{orderId}}}","payload":{"orderId":"{{{payloadOrder ?? orderId}}}","sequence":{{{sequence}}},"customerId":"c","amount":1.00,"currency":"EUR"}}
            """);
}
