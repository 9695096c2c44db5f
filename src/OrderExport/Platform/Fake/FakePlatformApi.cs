using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using OrderExport.Api;

namespace OrderExport.Platform.Fake;

/// <summary>
/// The fake external platform this service ships with, for development and tests:
/// <list type="bullet">
/// <item><c>POST /platform/orders</c>: receive an export (<c>Idempotency-Key</c> header = event id)</item>
/// <item><c>GET /platform/received</c>: what it received, in order</item>
/// <item><c>DELETE /platform/received</c>: forget it all</item>
/// <item><c>GET /platform/behavior</c>, <c>PUT /platform/behavior</c>: how it answers (<see cref="FakePlatformBehaviorSettings"/>)</item>
/// </list>
/// Outside Development, <c>DELETE</c> and <c>PUT</c> need the operations key (<c>X-Api-Key</c>).
/// A request is recorded and decided on arrival and answered after the configured delay, so a
/// client that gives up meanwhile leaves an accepted export behind, as with a real platform, and
/// its retry is a duplicate that gets the first answer back.
/// </summary>
public static class FakePlatformApi
{
    public const string ScriptedFailure = "urn:orderexport:problem:fake-platform-failure";
    public const string OrderRejected = "urn:orderexport:problem:fake-platform-order-rejected";

    public static IEndpointRouteBuilder MapFakePlatform(this IEndpointRouteBuilder app)
    {
        var platform = app.MapGroup("/platform").WithTags("FakePlatform");

        platform.MapPost("/orders", ReceiveOrder).WithName(nameof(ReceiveOrder))
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        platform.MapGet("/received", GetReceived).WithName(nameof(GetReceived));
        platform.MapGet("/behavior", GetBehavior).WithName(nameof(GetBehavior));
        // Wiping its idempotency record or making it reject everything is an operator's act
        // wherever the fake runs outside Development (compose, a demo): the operations key.
        var control = app.ServiceProvider.GetRequiredService<IHostEnvironment>().IsDevelopment()
            ? platform
            : platform.MapGroup("").AddEndpointFilter<ApiKeyFilter>().ProducesProblem(StatusCodes.Status401Unauthorized);
        control.MapDelete("/received", ResetReceived).WithName(nameof(ResetReceived));
        control.MapPut("/behavior", SetBehavior).WithName(nameof(SetBehavior)).ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Results<Ok<FakePlatformAcceptance>, ProblemHttpResult>> ReceiveOrder(
        HttpContext context, FakePlatformRecorder recorder, FakePlatformBehavior behavior, TimeProvider time)
    {
        var aborted = context.RequestAborted;
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(aborted);
        var (request, field, error) = Read(context.Request.Headers[HttpPlatformClient.IdempotencyKeyHeader], body);
        if (request is null)
        {
            return Problems.ValidationFailed(field, error);
        }

        var decision = behavior.Decide(request.OrderId);
        var acceptance = decision.Answer == FakePlatformAnswer.Accept ? recorder.Accept(request, body) : null;
        if (acceptance is null)
        {
            recorder.RecordFailure(request, body, decision.Answer == FakePlatformAnswer.Hang ? null : decision.StatusCode);
        }

        // Waiting ends early when the client gives up (nobody reads the answer then); what was decided above stands.
        await Task.Delay(decision.Delay, time, aborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        if (decision.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        if (acceptance is not null)
        {
            return TypedResults.Ok(acceptance);
        }

        return decision.Answer == FakePlatformAnswer.Reject
            ? TypedResults.Problem(
                title: "Order rejected", detail: $"The platform refuses order {request.OrderId}.",
                statusCode: decision.StatusCode, type: OrderRejected)
            : TypedResults.Problem(
                title: "Scripted failure", detail: $"The fake platform was told to answer {decision.StatusCode}.",
                statusCode: decision.StatusCode, type: ScriptedFailure);
    }

    public static Ok<IReadOnlyList<FakePlatformRequest>> GetReceived(FakePlatformRecorder recorder) => TypedResults.Ok(recorder.Received);

    public static NoContent ResetReceived(FakePlatformRecorder recorder)
    {
        recorder.Reset();
        return TypedResults.NoContent();
    }

    public static Ok<FakePlatformBehaviorSettings> GetBehavior(FakePlatformBehavior behavior) => TypedResults.Ok(behavior.Current);

    public static Results<Ok<FakePlatformBehaviorSettings>, ProblemHttpResult> SetBehavior(
        FakePlatformBehaviorSettings settings, FakePlatformBehavior behavior)
    {
        if (settings.Validate() is var (field, message))
        {
            return Problems.ValidationFailed(field, $"The field {field} {message}");
        }

        behavior.Set(settings);
        return TypedResults.Ok(behavior.Current);
    }

    /// <summary>The request when the key is a GUID and the body a complete export for it; otherwise what is wrong.</summary>
    internal static (PlatformExportRequest? Request, string Field, string Error) Read(string? idempotencyKey, string body)
    {
        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return (null, HttpPlatformClient.IdempotencyKeyHeader, "The Idempotency-Key header is required.");
        }

        if (!Guid.TryParse(idempotencyKey, out var eventId))
        {
            return (null, HttpPlatformClient.IdempotencyKeyHeader, "The Idempotency-Key header must be the event id (a GUID).");
        }

        if (Deserialize(body) is not { } request)
        {
            return (null, "body", "The body must be a JSON export request.");
        }

        var (field, error) = request switch
        {
            _ when request.EventId != eventId => (nameof(request.EventId), "The field EventId must equal the Idempotency-Key header."),
            { OrderId: var id } when id == Guid.Empty => (nameof(request.OrderId), "The field OrderId is required."),
            { Sequence: < 1 } => (nameof(request.Sequence), "The field Sequence must be 1 or more."),
            { CustomerId: null or "" } => (nameof(request.CustomerId), "The field CustomerId is required."),
            { Amount: <= 0 } => (nameof(request.Amount), "The field Amount must be positive."),
            { Currency: null } or { Currency.Length: not 3 } => (nameof(request.Currency), "The field Currency must be a 3-letter code."),
            _ => ("", ""),
        };
        return (field.Length == 0 ? request : null, field, error);
    }

    private static PlatformExportRequest? Deserialize(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<PlatformExportRequest>(body, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
