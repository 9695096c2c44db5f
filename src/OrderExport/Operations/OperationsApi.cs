using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OrderExport.Api;
using OrderExport.Export;
using OrderExport.Health;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Operations;

/// <summary>
/// The operations page (<c>/ops</c>, and <c>/</c> redirects there) and the read-only JSON API it
/// polls, one group tagged "Operations" in the OpenAPI document:
/// <list type="bullet">
/// <item><c>GET /ops/api/overview</c>: rates, outbox backlog, consumer lag, unresolved dead letters, readiness</item>
/// <item><c>GET /ops/api/kafka</c>: brokers, topics with end offsets, the consumer group</item>
/// <item><c>GET /ops/api/orders?limit=</c>: the latest orders with their export status</item>
/// <item><c>GET /ops/api/orders/{id}/journey</c>: one order from its creation to its export</item>
/// </list>
/// The page's Replay and Discard buttons call the existing <c>/dead-letters</c> routes with the
/// operator's <c>X-Api-Key</c>: nothing in this group changes state, so nothing here needs the key.
/// </summary>
public static class OperationsApi
{
    public const string PagePath = "/ops";

    /// <summary>Scripts and styles only from the service itself; nothing inline, nothing framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IServiceCollection AddOrderExportOperations(this IServiceCollection services)
    {
        services.AddSingleton<PipelineRates>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelineRates>());
        services.AddSingleton<OrderActivityLog>();
        services.AddSingleton<KafkaInspector>();
        return services;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        // Made now, so it hears the fetches and platform attempts from the first one on.
        app.ServiceProvider.GetRequiredService<OrderActivityLog>();

        app.MapGet("/", () => TypedResults.Redirect(PagePath)).ExcludeFromDescription();
        app.MapGet(PagePath, () => PageAsset("index.html", "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet(PagePath + "/ops.js", () => PageAsset("ops.js", "text/javascript; charset=utf-8")).ExcludeFromDescription();
        app.MapGet(PagePath + "/ops.css", () => PageAsset("ops.css", "text/css; charset=utf-8")).ExcludeFromDescription();

        var api = app.MapGroup(PagePath + "/api").WithTags("Operations");
        api.MapGet("/overview", Overview).WithName("OperationsOverview");
        api.MapGet("/kafka", Kafka).WithName("OperationsKafka");
        api.MapGet("/orders", LatestOrders).WithName("OperationsLatestOrders");
        api.MapGet("/orders/{id:guid}/journey", Journey).WithName("OperationsOrderJourney").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static IResult PageAsset(string name, string contentType) => new PageAssetResult(name, contentType);

    public static async Task<Ok<OverviewResponse>> Overview(
        OrderExportDbContext db, PipelineRates rates, OrderExportMetrics metrics, ConsumerProgress consumer,
        HealthCheckService health, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(HealthEndpoints.ReadyTag), cancellationToken);
        var unresolved = await db.DeadLetters.CountAsync(d => d.Status == DeadLetterStatus.Unresolved, cancellationToken);
        var partitions = consumer.Snapshot();
        var lag = partitions.Sum(p => p.Lag ?? 0);
        var lagUnknown = partitions.Count(p => p.Lag is null);
        return TypedResults.Ok(new OverviewResponse(
            time.GetUtcNow(),
            rates.History(),
            new OutboxBacklog(metrics.OutboxPending, metrics.OutboxOldestPendingAge.TotalSeconds),
            new ConsumerLag(lag, lagUnknown, [.. partitions.Select(p => new ConsumerPartitionLag(p.Partition, p.Lag, p.Unfinished, p.Retries, p.LastError))]),
            unresolved,
            new Readiness(report.Status.ToString(),
                [.. report.Entries.Select(e => new ReadinessCheck(e.Key, e.Value.Status.ToString(), e.Value.Description))])));
    }

    public static async Task<Ok<KafkaView>> Kafka(KafkaInspector inspector, CancellationToken cancellationToken) =>
        TypedResults.Ok(await inspector.ViewAsync(cancellationToken));

    public static async Task<Ok<List<OrderSummary>>> LatestOrders(OrderExportDbContext db, int? limit, CancellationToken cancellationToken)
    {
        var orders = await db.Orders.AsNoTracking().OrderByDescending(o => o.CreatedAtUtc)
            .Take(Math.Clamp(limit ?? 20, 1, 200)).ToListAsync(cancellationToken);
        var ids = orders.Where(o => o.ExportStatus == ExportStatus.Pending).Select(o => o.Id).ToList();
        var unpublished = await db.OutboxMessages.AsNoTracking()
            .Where(m => ids.Contains(m.OrderId) && m.PublishedAtUtc == null).Select(m => m.OrderId).Distinct().ToListAsync(cancellationToken);
        return TypedResults.Ok(orders.Select(o => new OrderSummary(o.Id, o.CustomerId, o.Amount, o.Currency, o.Status,
            OrderExportStatus.Of(o.ExportStatus, unpublished.Contains(o.Id)),
            o.CreatedAtUtc, o.ConfirmedAtUtc)).ToList());
    }

    public static async Task<Results<Ok<OrderJourney>, ProblemHttpResult>> Journey(
        Guid id, OrderExportDbContext db, OrderActivityLog activity, ConsumerProgress consumer, IOptions<HealthOptions> health,
        CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id, cancellationToken);
        if (order is null)
        {
            return Problems.OrderNotFoundResult(id);
        }

        var outbox = await db.OutboxMessages.AsNoTracking().Where(m => m.OrderId == id).OrderBy(m => m.Id).ToListAsync(cancellationToken);
        var eventIds = outbox.Select(m => m.EventId).ToList();
        var inbox = await db.InboxMessages.AsNoTracking().Where(i => eventIds.Contains(i.EventId)).ToListAsync(cancellationToken);
        var deadLetters = await db.DeadLetters.AsNoTracking().Where(d => d.OrderId == id).OrderBy(d => d.Id).ToListAsync(cancellationToken);
        var waiting = consumer.ExplainWait(id, health.Value.ConsumerStallAfter);
        return TypedResults.Ok(OrderJourney.Build(order, outbox, inbox, deadLetters, activity.Fetched(id), activity.Attempts(id), waiting));
    }

    /// <summary>An embedded page file, sent with the page's security headers.</summary>
    private sealed class PageAssetResult(string name, string contentType) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await using var stream = typeof(OperationsApi).Assembly.GetManifestResourceStream($"OrderExport.Operations.Page.{name}")
                ?? throw new InvalidOperationException($"The operations page file {name} is not embedded.");
            var headers = httpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.CacheControl = "no-cache";
            headers["Referrer-Policy"] = "no-referrer";
            httpContext.Response.ContentType = contentType;
            httpContext.Response.ContentLength = stream.Length;
            await stream.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
        }
    }
}

public sealed record OverviewResponse(
    DateTimeOffset At, IReadOnlyList<RateSample> Rates, OutboxBacklog Outbox, ConsumerLag Consumer, int UnresolvedDeadLetters, Readiness Readiness);

/// <summary>Sampled every Health:SampleInterval by the outbox monitor.</summary>
public sealed record OutboxBacklog(long Pending, double OldestAgeSeconds);

/// <summary>This instance's partitions: <see cref="Total"/> over those that know their lag, <see cref="UnknownPartitions"/> not fetched yet.</summary>
public sealed record ConsumerLag(long Total, int UnknownPartitions, IReadOnlyList<ConsumerPartitionLag> Partitions);

public sealed record ConsumerPartitionLag(int Partition, long? Lag, int Unfinished, int Retries, string? LastError);

public sealed record Readiness(string Status, IReadOnlyList<ReadinessCheck> Checks);

public sealed record ReadinessCheck(string Name, string Status, string? Description);

public sealed record OrderSummary(
    Guid Id, string CustomerId, decimal Amount, string Currency, OrderStatus Status, ExportStatus ExportStatus, DateTime CreatedAt, DateTime? ConfirmedAt);
