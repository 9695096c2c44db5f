using System.Data.Common;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Diagnostics;
using OrderExport.Persistence;

namespace OrderExport.Api;

/// <summary>
/// Last line of defence: every exception leaves as ProblemDetails with a stable type, never
/// as a stack trace. Bad requests keep their 4xx status; an unreachable database or broker is 503
/// with Retry-After (clients may retry: nothing was written); a lost optimistic-concurrency race
/// is 409; anything else is a logged 500.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, DatabaseSchema schema, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "Request body too large" : "Bad request"),
            // Not migrated yet: the database was unreachable at start-up (and may answer before its tables exist).
            _ when DatabaseUnavailable.Is(exception) || !schema.IsMigrated =>
                (StatusCodes.Status503ServiceUnavailable, "Database unavailable"),
            DbUpdateConcurrencyException => (StatusCodes.Status409Conflict, "Changed concurrently; try again"),
            KafkaException => (StatusCodes.Status503ServiceUnavailable, "Kafka unavailable"),
            _ => (StatusCodes.Status500InternalServerError, "Internal error"),
        };

        if (status >= 500)
        {
            LogFailed(exception, httpContext.Request.Method, httpContext.Request.Path, status);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "5";
        }

        var problem = Problems.ForStatus(status);
        if (exception is KafkaException)
        {
            problem.Type = Problems.BrokerUnavailable;
        }

        problem.Title = title;
        // Client errors say what was wrong with the request; server errors say nothing internal.
        problem.Detail = status < 500 ? exception.Message : null;
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed with {StatusCode}")]
    private partial void LogFailed(Exception exception, string method, string path, int statusCode);
}
