using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace OrderExport.Api;

/// <summary>
/// Refuses oversized bodies with 413 ProblemDetails before they are read: the limit a route's owner
/// set (<see cref="ApiServiceCollectionExtensions.WithRequestBodyLimit{TBuilder}"/>, as the
/// <c>/orders</c> group does), else <see cref="DefaultMaxBytes"/>, so no route takes Kestrel's 30 MB
/// by accident. Kestrel enforces the same limit on chunked bodies through
/// <see cref="IHttpMaxRequestBodySizeFeature"/>.
/// </summary>
internal sealed class RequestSizeLimitMiddleware(RequestDelegate next)
{
    /// <summary>Every body this service accepts is a small JSON document.</summary>
    public const long DefaultMaxBytes = 16 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        var maxBytes = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? DefaultMaxBytes;

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
