using Microsoft.Extensions.Options;
using OrderExport.Export;
using OrderExport.Orders;

namespace OrderExport.Health;

/// <summary>
/// Why an order's published event waits, for <c>GET /orders/{id}</c>: where the consumer is on
/// its partition, judged "stuck" by the same <see cref="HealthOptions.ConsumerStallAfter"/> that
/// makes readiness Degraded.
/// </summary>
internal sealed class ConsumerWaits(ConsumerProgress consumer, IOptions<HealthOptions> options) : IExportWaits
{
    public string? Explain(Guid orderId) => consumer.ExplainWait(orderId, options.Value.ConsumerStallAfter);
}
