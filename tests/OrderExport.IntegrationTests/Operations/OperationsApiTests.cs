using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrderExport.Api;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Operations;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Operations;

/// <summary>The operations page's JSON API and its files over plain HTTP.</summary>
public sealed partial class OperationsApiTests(KafkaTestBroker broker)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryReadOnlyRoute_AnswersWithoutTheKey()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var http = app.Start();
        var order = await new OrdersClient(http).CreateConfirmedAsync("api-customer");
        await Eventually.True(async () => (await new OrdersClient(http).GetAsync(order.Id)).ExportStatus == OrderExport.Orders.ExportStatus.Exported,
            because: "the order is exported");

        var overview = await GetJson(http, "/ops/api/overview");
        overview.GetProperty("readiness").GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString())
            .ShouldBe(["database", "kafka", "pipeline"], ignoreOrder: true);
        overview.GetProperty("unresolvedDeadLetters").GetInt32().ShouldBe(0);
        overview.GetProperty("outbox").GetProperty("pending").GetInt64().ShouldBeGreaterThanOrEqualTo(0);

        var kafka = await GetJson(http, "/ops/api/kafka");
        var topics = kafka.GetProperty("topics").EnumerateArray().ToList();
        topics.Select(t => t.GetProperty("name").GetString()).ShouldBe([app.Topics.Topic, app.Topics.DeadLetterTopic]);
        topics.ShouldAllBe(t => t.GetProperty("partitions").GetArrayLength() == 3);
        topics[0].GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("endOffset").GetInt64()).ShouldBe(1);
        kafka.GetProperty("group").GetProperty("groupId").GetString().ShouldBe(app.Topics.ConsumerGroup);

        var orders = await GetJson(http, "/ops/api/orders?limit=5");
        orders.EnumerateArray().Single().GetProperty("exportStatus").GetString().ShouldBe("Exported");

        var journey = await GetJson(http, $"/ops/api/orders/{order.Id}/journey");
        var steps = journey.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        steps.ShouldBe(["Created", "Confirmed", "Outbox row", "Published", "Consumed", "Platform attempt 1", "Exported", "Export status"]);
        var published = journey.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Published");
        published.GetProperty("detail").GetString()!.ShouldMatch(@"partition \d @ offset 0 at ");
        published.GetProperty("traceId").GetString().ShouldNotBeNull();

        var missing = await http.GetAsync($"/ops/api/orders/{Guid.NewGuid()}/journey", Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        missing.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task TheRatesKeptServerSide_ShowTheConfirmedAndExportedOrder()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var http = app.Start();
        await new OrdersClient(http).CreateConfirmedAsync("rates-customer");

        await Eventually.True(async () =>
        {
            var rates = (await GetJson(http, "/ops/api/overview")).GetProperty("rates").EnumerateArray().ToList();
            return rates.Sum(r => r.GetProperty("confirmed").GetInt64()) == 1 && rates.Sum(r => r.GetProperty("exported").GetInt64()) == 1;
        }, because: "one order confirmed and exported shows in the per-second history");
    }

    [Fact]
    public async Task ThePagesActions_NeedTheKey_AndTheOpenApiDocumentListsTheOperationsGroup()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var http = app.Start();

        // The page changes state only through the existing dead-letter routes, which refuse a missing or wrong key.
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/dead-letters"), (HttpMethod.Post, "/dead-letters/1/replay"), (HttpMethod.Post, "/dead-letters/1/discard") })
        {
            foreach (var key in new[] { null, "wrong-key" })
            {
                using var request = new HttpRequestMessage(method, path);
                if (key is not null)
                {
                    request.Headers.Add(OperationsOptions.HeaderName, key);
                }

                var response = await http.SendAsync(request, Cancel);
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{method} {path} with key {key ?? "(none)"}");
                (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("title").GetString().ShouldBe("Unauthorized");
            }
        }

        var replay = await app.OperatorClient().PostAsync("/dead-letters/1/replay", null, Cancel);
        replay.StatusCode.ShouldBe(HttpStatusCode.NotFound, "with the key, the route answers for real");

        var document = await GetJson(http, "/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/ops/api/overview", "/ops/api/kafka", "/ops/api/orders", "/ops/api/orders/{id}/journey" })
        {
            paths.TryGetProperty(path, out var item).ShouldBeTrue($"{path} is in the OpenAPI document");
            item.GetProperty("get").GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldContain("Operations");
            item.TryGetProperty("post", out _).ShouldBeFalse("the operations group is read-only");
        }

        paths.EnumerateObject().Where(p => p.Name.StartsWith("/ops", StringComparison.Ordinal)).Count().ShouldBe(4, "page files are not API");
    }

    [Fact]
    public async Task ThePage_IsServedByTheService_WithAPolicyThatAllowsNoInlineScriptOrStyle()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var http = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var root = await http.GetAsync("/", Cancel);
        root.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        root.Headers.Location!.ToString().ShouldBe(OperationsApi.PagePath);

        var page = await http.GetAsync(OperationsApi.PagePath, Cancel);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("script-src 'self'");
        csp.ShouldContain("style-src 'self'");
        csp.ShouldNotContain("unsafe-inline");
        csp.ShouldNotContain("http");
        var html = await page.Content.ReadAsStringAsync(Cancel);
        InlineScript().IsMatch(html).ShouldBeFalse("every script has a src");
        html.ShouldNotContain(" style=");
        html.ShouldNotContain("<style");
        html.ShouldNotContain("//cdn", Case.Insensitive);

        foreach (var (file, type) in new[] { ("ops.js", "text/javascript"), ("ops.css", "text/css") })
        {
            var asset = await http.GetAsync($"{OperationsApi.PagePath}/{file}", Cancel);
            asset.StatusCode.ShouldBe(HttpStatusCode.OK);
            asset.Content.Headers.ContentType!.MediaType.ShouldBe(type);
            (await asset.Content.ReadAsStringAsync(Cancel)).ShouldNotContain("https://");
        }
    }

    private static async Task<JsonElement> GetJson(HttpClient http, string path)
    {
        var response = await http.GetAsync(path, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
    }

    [GeneratedRegex("<script(?![^>]*\\bsrc=)", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();
}
