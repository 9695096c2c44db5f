using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Orders;

/// <summary>Every bad request gets a 4xx ProblemDetails with a stable type, and writes nothing.</summary>
public sealed class OrdersApiBadInputTests(KafkaTestBroker broker) : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private OrderExportApp _app = null!;
    private HttpClient _http = null!;

    public static TheoryData<string, string, string?, int> Cases => new()
    {
        // name, path, JSON body (null: no body), expected status
        { "malformed JSON", "/orders", "{\"customerId\": \"c\", \"amount\": 1,", 400 },
        { "amount of wrong type", "/orders", """{"customerId":"c","amount":"ten","currency":"EUR"}""", 400 },
        { "customer of wrong type", "/orders", """{"customerId":12,"amount":10,"currency":"EUR"}""", 400 },
        { "missing customer", "/orders", """{"amount":10,"currency":"EUR"}""", 400 },
        { "missing amount", "/orders", """{"customerId":"c","currency":"EUR"}""", 400 },
        { "zero amount", "/orders", """{"customerId":"c","amount":0,"currency":"EUR"}""", 400 },
        { "negative amount", "/orders", """{"customerId":"c","amount":-5,"currency":"EUR"}""", 400 },
        { "huge amount", "/orders", """{"customerId":"c","amount":1e15,"currency":"EUR"}""", 400 },
        { "three decimals", "/orders", """{"customerId":"c","amount":1.005,"currency":"EUR"}""", 400 },
        { "lower-case currency", "/orders", """{"customerId":"c","amount":1,"currency":"eur"}""", 400 },
        { "empty customer", "/orders", """{"customerId":"","amount":1,"currency":"EUR"}""", 400 },
        { "very long customer", "/orders", $$"""{"customerId":"{{new string('x', 65)}}","amount":1,"currency":"EUR"}""", 400 },
        { "control characters", "/orders", """{"customerId":"c\u0000\u0007","amount":1,"currency":"EUR"}""", 400 },
        { "JSON null body", "/orders", "null", 400 },
        { "empty body", "/orders", null, 400 },
        { "oversized body", "/orders", $$"""{"customerId":"c","amount":1,"currency":"EUR","pad":"{{new string('x', 20_000)}}"}""", 413 },
        { "confirm unknown order", "/orders/confirm", $$"""{"orderId":"{{Guid.NewGuid()}}"}""", 404 },
        { "confirm id not a uuid", "/orders/confirm", """{"orderId":"1; DROP TABLE orders"}""", 400 },
        { "confirm without id", "/orders/confirm", "{}", 400 },
        { "re-export unknown order", $"/orders/{Guid.NewGuid()}/exports", null, 404 },
    };

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        _app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, _database.ConnectionString);
        _http = _app.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadRequest_IsAnsweredWithProblemDetailsAndWritesNothing(string name, string path, string? body, int expectedStatus)
    {
        using var content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json");

        var response = await _http.PostAsync(path, content, TestContext.Current.CancellationToken);

        await ShouldBeProblem(response, expectedStatus, name);
        await ShouldHaveWrittenNothing();
    }

    [Fact]
    public async Task WrongContentType_IsRefused()
    {
        using var content = new StringContent("""{"customerId":"c","amount":1,"currency":"EUR"}""", Encoding.UTF8, "text/plain");

        var response = await _http.PostAsync("/orders", content, TestContext.Current.CancellationToken);

        await ShouldBeProblem(response, 415, "text/plain body");
        await ShouldHaveWrittenNothing();
    }

    [Theory]
    [InlineData("/orders/not-a-uuid")]
    [InlineData("/orders/00000000-0000-0000-0000-000000000001")]
    public async Task GetUnknownOrder_IsNotFoundProblem(string path)
    {
        var response = await _http.GetAsync(path, TestContext.Current.CancellationToken);

        await ShouldBeProblem(response, 404, path);
    }

    [Fact]
    public async Task ReExportOfDraftOrder_IsConflictAndWritesNoEvent()
    {
        var order = await new OrdersClient(_http).CreateAsync();

        var response = await _http.PostAsync($"/orders/{order.Id}/exports", null, TestContext.Current.CancellationToken);

        await ShouldBeProblem(response, 409, "draft re-export");
        (await _app.WithDb(db => db.OutboxMessages.CountAsync(TestContext.Current.CancellationToken))).ShouldBe(0);
    }

    [Fact]
    public async Task SqlLookingText_IsStoredVerbatimAsData()
    {
        const string customer = "x'); DROP TABLE orders; --";
        var orders = new OrdersClient(_http);

        var created = await orders.CreateAsync(customer);

        (await orders.GetAsync(created.Id)).CustomerId.ShouldBe(customer);
    }

    private static async Task ShouldBeProblem(HttpResponseMessage response, int expectedStatus, string because)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        ((int)response.StatusCode).ShouldBe(expectedStatus, $"{because}: {text}");
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", because);
        using var problem = JsonDocument.Parse(text);
        problem.RootElement.GetProperty("status").GetInt32().ShouldBe(expectedStatus, because);
        problem.RootElement.GetProperty("type").GetString()!.ShouldStartWith("urn:orderexport:problem:", Case.Sensitive, because);
        text.ShouldNotContain("   at ", Case.Sensitive, "no stack trace");
    }

    private async Task ShouldHaveWrittenNothing()
    {
        var (orders, outbox) = await _app.WithDb(async db => (
            await db.Orders.CountAsync(TestContext.Current.CancellationToken),
            await db.OutboxMessages.CountAsync(TestContext.Current.CancellationToken)));
        orders.ShouldBe(0);
        outbox.ShouldBe(0);
    }
}
