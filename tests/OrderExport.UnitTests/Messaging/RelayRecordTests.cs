using System.Text;
using OrderExport.Messaging;
using OrderExport.Outbox;

namespace OrderExport.UnitTests.Messaging;

/// <summary>The record the relay builds from an outbox row: key, value and the headers the consumer reads.</summary>
public sealed class RelayRecordTests
{
    [Fact]
    public void ARow_BecomesARecordKeyedByItsOrder_WithItsHeaders()
    {
        var row = new PendingOutboxMessage(7, Guid.NewGuid(), Guid.NewGuid(), "OrderExportRequested", 2, """{"a":"é"}""",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=x", Attempts: 0);

        var record = OutboxRelay.ToKafkaMessage(row, row.OrderId.ToString(), row.TraceParent, row.TraceState);

        record.Key.ShouldBe(row.OrderId.ToString());
        Encoding.UTF8.GetString(record.Value).ShouldBe(row.Payload);
        Header(record, MessageHeaders.EventId).ShouldBe(row.EventId.ToString());
        Header(record, MessageHeaders.EventType).ShouldBe("OrderExportRequested");
        Header(record, MessageHeaders.SchemaVersion).ShouldBe("2");
        Header(record, MessageHeaders.TraceParent).ShouldBe(row.TraceParent);
        Header(record, MessageHeaders.TraceState).ShouldBe("vendor=x");
    }

    [Fact]
    public void RepeatedHeaderValues_AreEncodedOnce_AndStayCorrectPastTheKeptLimit()
    {
        HeaderValues.Utf8("OrderExportRequested").ShouldBeSameAs(HeaderValues.Utf8("OrderExportRequested"));
        HeaderValues.Utf8(3).ShouldBeSameAs(HeaderValues.Utf8(3));

        var many = Enumerable.Range(0, 200).Select(i => $"Type{i}").ToList();
        many.Select(t => Encoding.UTF8.GetString(HeaderValues.Utf8(t))).ShouldBe(many);
        Enumerable.Range(1000, 200).Select(i => Encoding.UTF8.GetString(HeaderValues.Utf8(i)))
            .ShouldBe(Enumerable.Range(1000, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string Header(Confluent.Kafka.Message<string, byte[]> record, string name) =>
        Encoding.UTF8.GetString(record.Headers.GetLastBytes(name));
}
