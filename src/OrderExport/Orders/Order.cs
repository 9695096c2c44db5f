using OrderExport.Domain;

namespace OrderExport.Orders;

/// <summary>An order. Its state changes only through the methods below, which guard each transition.</summary>
public sealed class Order : AggregateRoot
{
    public const int CustomerIdMaxLength = 64;

    // For EF Core.
    private Order()
    {
        CustomerId = "";
        Currency = "";
    }

    private Order(Guid id, string customerId, decimal amount, string currency, DateTime nowUtc)
    {
        Id = id;
        CustomerId = customerId;
        Amount = amount;
        Currency = currency;
        Status = OrderStatus.Draft;
        ExportStatus = ExportStatus.NotRequested;
        CreatedAtUtc = nowUtc;
    }

    public Guid Id { get; private set; }

    public string CustomerId { get; private set; }

    public decimal Amount { get; private set; }

    public string Currency { get; private set; }

    public OrderStatus Status { get; private set; }

    public DateTime CreatedAtUtc { get; private set; }

    public DateTime? ConfirmedAtUtc { get; private set; }

    /// <summary>How many export requests this order has had; the latest one's number.</summary>
    public int ExportSequence { get; private set; }

    /// <summary>Status of the latest export request, as far as the consumer has recorded it.</summary>
    public ExportStatus ExportStatus { get; private set; }

    /// <summary>Optimistic concurrency token: two confirmations of one order cannot both commit.</summary>
    public int Version { get; private set; }

    public static Order Create(string customerId, decimal amount, string currency, DateTime nowUtc)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(customerId);
        ArgumentException.ThrowIfNullOrWhiteSpace(currency);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        return new Order(Guid.CreateVersion7(), customerId, amount, currency, nowUtc);
    }

    /// <summary>Confirms a draft order and requests its export. Confirming again changes nothing.</summary>
    /// <returns>Whether this call confirmed the order.</returns>
    public bool Confirm(DateTime nowUtc)
    {
        if (Status == OrderStatus.Confirmed)
        {
            return false;
        }

        Status = OrderStatus.Confirmed;
        ConfirmedAtUtc = nowUtc;
        RequestExportCore(nowUtc);
        return true;
    }

    /// <summary>Asks for the confirmed order to be exported again (for example after the platform lost it).</summary>
    public void RequestExport(DateTime nowUtc)
    {
        if (Status != OrderStatus.Confirmed)
        {
            throw new InvalidOperationException($"Order {Id} is {Status}; only confirmed orders can be exported.");
        }

        RequestExportCore(nowUtc);
    }

    /// <summary>Records what became of export request <paramref name="sequence"/>; stale or backward updates are ignored.</summary>
    public bool RecordExportOutcome(int sequence, ExportStatus outcome)
    {
        if (sequence != ExportSequence || outcome <= ExportStatus)
        {
            return false;
        }

        ExportStatus = outcome;
        Version++;
        return true;
    }

    private void RequestExportCore(DateTime nowUtc)
    {
        ExportSequence++;
        ExportStatus = ExportStatus.Pending;
        Version++;
        Raise(new OrderExportRequested(Guid.CreateVersion7(), nowUtc, Id, ExportSequence, CustomerId, Amount, Currency));
    }
}
