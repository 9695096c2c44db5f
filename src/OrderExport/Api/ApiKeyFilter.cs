using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OrderExport.Api;

/// <summary>
/// Guards operator routes with the key from <c>Operations:ApiKey</c> (header <c>X-Api-Key</c>).
/// No key configured means nobody gets in. Compared as SHA-256 digests in constant time, so
/// neither the time taken nor an early exit on a length mismatch tells anything about the key.
/// </summary>
internal sealed class ApiKeyFilter(IOptionsMonitor<OperationsOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.CurrentValue.ApiKey;
        var given = context.HttpContext.Request.Headers[OperationsOptions.HeaderName].ToString();
        if (expected.Length == 0 || !CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
        {
            return ValueTask.FromResult<object?>(TypedResults.Problem(
                title: "Unauthorized",
                detail: $"This operation needs a valid {OperationsOptions.HeaderName} header.",
                statusCode: StatusCodes.Status401Unauthorized,
                type: Problems.Unauthorized));
        }

        return next(context);
    }
}
