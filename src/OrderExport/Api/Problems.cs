using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace OrderExport.Api;

/// <summary>
/// Stable ProblemDetails <c>type</c> values (RFC 7807), documented in docs/problems.md.
/// Clients may switch on them; they never change meaning.
/// </summary>
public static class Problems
{
    public const string Validation = "urn:orderexport:problem:validation";
    public const string BadRequest = "urn:orderexport:problem:bad-request";
    public const string PayloadTooLarge = "urn:orderexport:problem:payload-too-large";
    public const string OrderNotFound = "urn:orderexport:problem:order-not-found";
    public const string OrderNotConfirmed = "urn:orderexport:problem:order-not-confirmed";
    public const string NotFound = "urn:orderexport:problem:not-found";
    public const string DeadLetterResolved = "urn:orderexport:problem:dead-letter-resolved";
    public const string OlderDeadLetterUnresolved = "urn:orderexport:problem:older-dead-letter-unresolved";
    public const string Conflict = "urn:orderexport:problem:conflict";
    public const string Unauthorized = "urn:orderexport:problem:unauthorized";
    public const string DatabaseUnavailable = "urn:orderexport:problem:database-unavailable";
    public const string BrokerUnavailable = "urn:orderexport:problem:broker-unavailable";
    public const string Internal = "urn:orderexport:problem:internal";

    public static ProblemHttpResult OrderNotFoundResult(Guid orderId) => TypedResults.Problem(
        title: "Order not found", detail: $"There is no order {orderId}.",
        statusCode: StatusCodes.Status404NotFound, type: OrderNotFound);

    public static ProblemHttpResult ValidationFailed(string field, string message) => TypedResults.Problem(new HttpValidationProblemDetails(
        new Dictionary<string, string[]> { [field] = [message] })
    {
        Title = "One or more validation errors occurred.",
        Status = StatusCodes.Status400BadRequest,
        Type = Validation,
    });

    /// <summary>
    /// Gives the framework's own problems (validation, status-code pages, binding failures) our
    /// stable types instead of the generic RFC links.
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type is not null && problem.Type.StartsWith("urn:orderexport:", StringComparison.Ordinal))
        {
            return;
        }

        problem.Type = problem is HttpValidationProblemDetails
            ? Validation
            : ForStatus(problem.Status ?? context.HttpContext.Response.StatusCode).Type;
    }

    public static ProblemDetails ForStatus(int status) => new()
    {
        Status = status,
        Type = status switch
        {
            StatusCodes.Status413PayloadTooLarge => PayloadTooLarge,
            StatusCodes.Status401Unauthorized => Unauthorized,
            StatusCodes.Status404NotFound => NotFound,
            StatusCodes.Status409Conflict => Conflict,
            StatusCodes.Status503ServiceUnavailable => DatabaseUnavailable,
            >= 500 => Internal,
            _ => BadRequest,
        },
    };
}
