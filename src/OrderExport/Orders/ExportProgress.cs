namespace OrderExport.Orders;

// What became of an order's export after its own save is known further down the pipeline: the
// outbox knows whether its event is still unpublished, the consumer why a published one waits.
// Orders asks through these; Outbox and Health answer (registered by their Add…), so the
// dependencies keep pointing from the later stages to Orders and never back.

/// <summary>Whether an order's event still waits in the outbox (answered by Outbox/OutboxStore).</summary>
public interface IUnpublishedExports
{
    Task<bool> AnyAsync(Guid orderId, CancellationToken cancellationToken);
}

/// <summary>Why an order's published event is not exported yet; null when nothing here holds it (answered by Health).</summary>
public interface IExportWaits
{
    string? Explain(Guid orderId);
}
