using System.ComponentModel.DataAnnotations;

namespace OrderExport.Orders;

/// <summary>Body of <c>POST /orders</c>.</summary>
public sealed record CreateOrderRequest(
    [property: Required, StringLength(Order.CustomerIdMaxLength, MinimumLength = 1),
     RegularExpression(@"^[^\p{Cc}\p{Cf}\u2028\u2029]+$", ErrorMessage = "The field CustomerId must not contain control characters.")]
    string? CustomerId,
    [property: Required, Range(typeof(decimal), "0.01", "1000000000", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    decimal? Amount,
    [property: Required, RegularExpression("^[A-Z]{3}$", ErrorMessage = "The field Currency must be an ISO 4217 code such as EUR.")]
    string? Currency);

/// <summary>Body of <c>POST /orders/confirm</c>.</summary>
public sealed record ConfirmOrderRequest([property: Required] Guid? OrderId);

/// <param name="ExportWaiting">
/// Why a published order is not exported yet, when this instance's consumer holds its record, e.g.
/// "Published to partition 1 @ offset 5; the partition is stuck at offset 0 (order …) for 41 s;
/// record retried 14 times, last: …". Null when the service does not know: it never guesses.
/// </param>
public sealed record OrderResponse(
    Guid Id,
    string CustomerId,
    decimal Amount,
    string Currency,
    OrderStatus Status,
    ExportStatus ExportStatus,
    int ExportSequence,
    DateTime CreatedAt,
    DateTime? ConfirmedAt,
    string? ExportWaiting = null)
{
    public static OrderResponse From(Order order, ExportStatus exportStatus, string? exportWaiting = null) => new(
        order.Id, order.CustomerId, order.Amount, order.Currency, order.Status, exportStatus,
        order.ExportSequence, order.CreatedAtUtc, order.ConfirmedAtUtc, exportWaiting);
}
