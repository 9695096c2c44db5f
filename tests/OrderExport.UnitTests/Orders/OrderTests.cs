using OrderExport.Orders;

namespace OrderExport.UnitTests.Orders;

public sealed class OrderTests
{
    private static readonly DateTime Now = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);

    private static Order Draft() => Order.Create("customer-1", 42.50m, "EUR", Now);

    [Fact]
    public void Create_StartsAsDraftWithNothingToExport()
    {
        var order = Draft();

        order.Status.ShouldBe(OrderStatus.Draft);
        order.ExportStatus.ShouldBe(ExportStatus.NotRequested);
        order.DomainEvents.ShouldBeEmpty();
    }

    [Fact]
    public void Confirm_WhenDraft_ConfirmsAndRaisesOrderExportRequested()
    {
        var order = Draft();

        order.Confirm(Now.AddMinutes(1)).ShouldBeTrue();

        order.Status.ShouldBe(OrderStatus.Confirmed);
        order.ConfirmedAtUtc.ShouldBe(Now.AddMinutes(1));
        order.ExportStatus.ShouldBe(ExportStatus.Pending);
        var raised = order.DomainEvents.ShouldHaveSingleItem().ShouldBeOfType<OrderExportRequested>();
        raised.OrderId.ShouldBe(order.Id);
        raised.Sequence.ShouldBe(1);
        raised.CustomerId.ShouldBe("customer-1");
        raised.Amount.ShouldBe(42.50m);
        raised.Currency.ShouldBe("EUR");
        raised.EventId.ShouldNotBe(Guid.Empty);
    }

    [Fact]
    public void Confirm_WhenAlreadyConfirmed_RaisesNothing()
    {
        var order = Draft();
        order.Confirm(Now);
        order.DequeueDomainEvents();

        order.Confirm(Now.AddMinutes(5)).ShouldBeFalse();

        order.DomainEvents.ShouldBeEmpty();
        order.ConfirmedAtUtc.ShouldBe(Now);
        order.ExportSequence.ShouldBe(1);
    }

    [Fact]
    public void RequestExport_WhenDraft_Throws()
    {
        var order = Draft();

        Should.Throw<InvalidOperationException>(() => order.RequestExport(Now));
        order.DomainEvents.ShouldBeEmpty();
    }

    [Fact]
    public void RequestExport_WhenConfirmed_RaisesNextSequence()
    {
        var order = Draft();
        order.Confirm(Now);

        order.RequestExport(Now);

        order.DomainEvents.Cast<OrderExportRequested>().Select(e => e.Sequence).ShouldBe([1, 2]);
        order.ExportSequence.ShouldBe(2);
        order.ExportStatus.ShouldBe(ExportStatus.Pending);
    }

    [Theory]
    [InlineData(ExportStatus.Exported, true)]
    [InlineData(ExportStatus.DeadLettered, true)]
    [InlineData(ExportStatus.Pending, false)]
    public void RecordExportOutcome_ForLatestRequest_MovesOnlyForward(ExportStatus outcome, bool expected)
    {
        var order = Draft();
        order.Confirm(Now);

        order.RecordExportOutcome(1, outcome).ShouldBe(expected);

        order.ExportStatus.ShouldBe(expected ? outcome : ExportStatus.Pending);
    }

    [Fact]
    public void RecordExportOutcome_AfterExported_IgnoresLateDeadLetter()
    {
        var order = Draft();
        order.Confirm(Now);
        order.RecordExportOutcome(1, ExportStatus.Exported);

        order.RecordExportOutcome(1, ExportStatus.DeadLettered).ShouldBeFalse();

        order.ExportStatus.ShouldBe(ExportStatus.Exported);
    }

    [Fact]
    public void RecordExportOutcome_ForOlderRequest_IsIgnored()
    {
        var order = Draft();
        order.Confirm(Now);
        order.RequestExport(Now);

        order.RecordExportOutcome(1, ExportStatus.Exported).ShouldBeFalse();

        order.ExportStatus.ShouldBe(ExportStatus.Pending);
    }

    [Theory]
    [InlineData("", 1, "EUR")]
    [InlineData("c", 0, "EUR")]
    [InlineData("c", -1, "EUR")]
    [InlineData("c", 1, "")]
    public void Create_WithInvalidValues_Throws(string customer, decimal amount, string currency)
    {
        Should.Throw<ArgumentException>(() => Order.Create(customer, amount, currency, Now));
    }
}
