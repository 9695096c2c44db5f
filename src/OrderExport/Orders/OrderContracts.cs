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

public sealed record OrderResponse(
    Guid Id,
    string CustomerId,
    decimal Amount,
    string Currency,
    OrderStatus Status,
    ExportStatus ExportStatus,
    int ExportSequence,
    DateTime CreatedAt,
    DateTime? ConfirmedAt)
{
    public static OrderResponse From(Order order, ExportStatus exportStatus) => new(
        order.Id, order.CustomerId, order.Amount, order.Currency, order.Status, exportStatus,
        order.ExportSequence, order.CreatedAtUtc, order.ConfirmedAtUtc);
}
