namespace OrderExport.Orders;

public enum OrderStatus
{
    Draft,
    Confirmed,
}

/// <summary>
/// Where the order's latest export request is. Ranked: a later stage never falls back to an
/// earlier one for the same request (the relay and the consumer race each other).
/// </summary>
public enum ExportStatus
{
    NotRequested = 0,
    Pending = 1,
    Published = 2,
    DeadLettered = 3,
    Exported = 4,
}
