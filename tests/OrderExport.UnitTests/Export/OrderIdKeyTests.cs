using System.Text;
using OrderExport.Export;

namespace OrderExport.UnitTests.Export;

/// <summary>Only a key spelled as the service writes order ids names an order (another spelling hashes to another partition).</summary>
public sealed class OrderIdKeyTests
{
    private static readonly Guid Order = Guid.Parse("01a22db4-e32e-73fe-9cde-86ed6362b261");

    [Theory]
    [InlineData("01a22db4-e32e-73fe-9cde-86ed6362b261", true)]
    [InlineData("01A22DB4-E32E-73FE-9CDE-86ED6362B261", false)]
    [InlineData("{01a22db4-e32e-73fe-9cde-86ed6362b261}", false)]
    [InlineData("01a22db4e32e73fe9cde86ed6362b261", false)]
    [InlineData("not-an-order", false)]
    [InlineData("", false)]
    public void From_NamesTheOrder_OnlyForTheCanonicalSpelling(string key, bool names)
    {
        var record = new IncomingRecord("order-export", 0, 0, Encoding.UTF8.GetBytes(key), [], []);

        OrderIdKey.From(record).ShouldBe(names ? Order : null);
    }
}
