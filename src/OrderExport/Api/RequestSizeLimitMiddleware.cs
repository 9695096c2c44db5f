using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace OrderExport.Api;

/// <summary>
/// Refuses oversized bodies with 413 ProblemDetails before they are read, on the routes whose
/// owner set a limit (<see cref="ApiServiceCollectionExtensions.WithRequestBodyLimit{TBuilder}"/>:
/// the <c>/orders</c> group). Kestrel enforces the same limit on chunked bodies through
/// <see cref="IHttpMaxRequestBodySizeFeature"/>.
/// </summary>
internal sealed class RequestSizeLimitMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize is not { } maxBytes)
        {
            return next(context);
        }

        if (context.Request.ContentLength > maxBytes)
        {
            throw new BadHttpRequestException(
                $"The request body is larger than {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        return next(context);
    }
}

/// <summary>A route's body limit, as endpoint metadata.</summary>
internal sealed record RequestBodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
