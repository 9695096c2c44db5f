using Microsoft.AspNetCore.Http.Features;
using OrderExport.Orders;

namespace OrderExport.Api;

/// <summary>
/// Refuses oversized bodies with 413 ProblemDetails before they are read. Runs as early
/// middleware for the <c>/orders</c> routes; Kestrel enforces the same limit on chunked
/// bodies through <see cref="IHttpMaxRequestBodySizeFeature"/>.
/// </summary>
internal sealed class RequestSizeLimitMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > OrdersApi.MaxRequestBodyBytes)
        {
            throw new BadHttpRequestException(
                $"The request body is larger than {OrdersApi.MaxRequestBodyBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = OrdersApi.MaxRequestBodyBytes;
        }

        return next(context);
    }
}
