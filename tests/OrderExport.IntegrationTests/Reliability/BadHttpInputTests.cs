using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using OrderExport.IntegrationTests.Infrastructure;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Fault 8: a corpus of bad HTTP input, beyond the basics in Orders/OrdersApiBadInputTests.cs.
/// Each request is answered with a 4xx ProblemDetails and writes nothing; afterwards the service
/// is still healthy and a normal order still exports. SQL-looking text inside a valid field is
/// data, stored and exported verbatim.
/// </summary>
public sealed class BadHttpInputTests(BadHttpInputTests.Service service) : IClassFixture<BadHttpInputTests.Service>
{
    private const string Valid = """{"customerId":"c","amount":10.5,"currency":"EUR"}""";

    /// <summary>One bad request: what it is, how to send it, and the status it must get.</summary>
    public sealed record BadRequest(string Name, HttpMethod Method, string Path, byte[]? Body, string? ContentType, int Status, bool OperatorKey = false)
    {
        public override string ToString() => Name;
    }

    private static BadRequest Json(string name, string path, string body, int status = 400) =>
        new(name, HttpMethod.Post, path, Encoding.UTF8.GetBytes(body), "application/json", status);

    private static BadRequest Bytes(string name, string path, byte[] body, int status = 400) =>
        new(name, HttpMethod.Post, path, body, "application/json", status);

    private static readonly string UnknownId = "0198f0b2-7c1e-7a3b-9d2e-1f2a3b4c5d6e";

    public static IReadOnlyList<BadRequest> Corpus { get; } =
    [
        // Malformed JSON.
        Json("trailing comma", "/orders", """{"customerId":"c","amount":10,"currency":"EUR",}"""),
        Json("single quotes", "/orders", "{'customerId':'c','amount':10,'currency':'EUR'}"),
        Json("unquoted names", "/orders", "{customerId:\"c\",amount:10,currency:\"EUR\"}"),
        Json("comment inside", "/orders", """{"customerId":"c", /* hi */ "amount":10,"currency":"EUR"}"""),
        Json("NaN amount", "/orders", """{"customerId":"c","amount":NaN,"currency":"EUR"}"""),
        Json("unterminated string", "/orders", """{"customerId":"c"""),
        Json("two objects", "/orders", Valid + Valid),
        Json("closing brace only", "/orders", "}"),
        Json("whitespace only", "/orders", "   \n\t  "),
        Json("array instead of object", "/orders", $"[{Valid}]"),
        Json("bare number", "/orders", "42"),
        Json("bare string", "/orders/confirm", "\"0198f0b2-7c1e-7a3b-9d2e-1f2a3b4c5d6e\""),
        // Wrong types.
        Json("amount true", "/orders", """{"customerId":"c","amount":true,"currency":"EUR"}"""),
        Json("amount object", "/orders", """{"customerId":"c","amount":{"value":10},"currency":"EUR"}"""),
        Json("amount array", "/orders", """{"customerId":"c","amount":[10],"currency":"EUR"}"""),
        Json("amount overflowing decimal", "/orders", """{"customerId":"c","amount":1e400,"currency":"EUR"}"""),
        Json("amount below a cent", "/orders", """{"customerId":"c","amount":0.001,"currency":"EUR"}"""),
        Json("customer object", "/orders", """{"customerId":{"id":"c"},"amount":10,"currency":"EUR"}"""),
        Json("customer array", "/orders", """{"customerId":["c"],"amount":10,"currency":"EUR"}"""),
        Json("customer null", "/orders", """{"customerId":null,"amount":10,"currency":"EUR"}"""),
        Json("currency number", "/orders", """{"customerId":"c","amount":10,"currency":978}"""),
        Json("orderId number", "/orders/confirm", """{"orderId":12345}"""),
        Json("orderId true", "/orders/confirm", """{"orderId":true}"""),
        Json("orderId object", "/orders/confirm", $$$"""{"orderId":{"id":"{{{UnknownId}}}"}}"""),
        Json("orderId empty string", "/orders/confirm", """{"orderId":""}"""),
        // Missing fields.
        Json("missing currency", "/orders", """{"customerId":"c","amount":10}"""),
        Json("empty object", "/orders", "{}"),
        Json("only unknown fields", "/orders", """{"customer":"c","total":10,"ccy":"EUR"}"""),
        // Huge bodies.
        Json("17 KiB body", "/orders", $$"""{"customerId":"c","amount":10,"currency":"EUR","pad":"{{new string('x', 17 * 1024)}}"}""", 413),
        Json("1 MiB body", "/orders", $$"""{"customerId":"c","amount":10,"currency":"EUR","pad":"{{new string('x', 1024 * 1024)}}"}""", 413),
        Json("1 MiB confirm", "/orders/confirm", $$"""{"orderId":"{{UnknownId}}","pad":"{{new string('x', 1024 * 1024)}}"}""", 413),
        // Very long strings within the size limit.
        Json("10,000-character customer", "/orders", $$"""{"customerId":"{{new string('c', 10_000)}}","amount":10,"currency":"EUR"}"""),
        Json("customer of 65 emoji", "/orders", $$"""{"customerId":"{{string.Concat(Enumerable.Repeat("\U0001F600", 65))}}","amount":10,"currency":"EUR"}"""),
        Json("1,000-character currency", "/orders", $$"""{"customerId":"c","amount":10,"currency":"{{new string('E', 1000)}}"}"""),
        // Control characters and odd Unicode.
        Json("escape character", "/orders", """{"customerId":"c\u001b[31m","amount":10,"currency":"EUR"}"""),
        Json("newline", "/orders", """{"customerId":"line1\nline2","amount":10,"currency":"EUR"}"""),
        Json("tab", "/orders", """{"customerId":"a\tb","amount":10,"currency":"EUR"}"""),
        Json("DEL", "/orders", """{"customerId":"a\u007fb","amount":10,"currency":"EUR"}"""),
        Json("zero-width space", "/orders", """{"customerId":"a\u200bb","amount":10,"currency":"EUR"}"""),
        Json("right-to-left override", "/orders", """{"customerId":"a\u202eb","amount":10,"currency":"EUR"}"""),
        Json("lone surrogate escape", "/orders", """{"customerId":"a\ud800b","amount":10,"currency":"EUR"}"""),
        Json("raw NUL byte in a string", "/orders", "{\"customerId\":\"a\0b\",\"amount\":10,\"currency\":\"EUR\"}"),
        // Invalid UTF-8.
        Bytes("invalid UTF-8 sequence", "/orders", [.. Encoding.UTF8.GetBytes("{\"customerId\":\"a"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\",\"amount\":10,\"currency\":\"EUR\"}")]),
        Bytes("overlong UTF-8 encoding", "/orders", [.. Encoding.UTF8.GetBytes("{\"customerId\":\"a"), 0xC0, 0xAF, .. Encoding.UTF8.GetBytes("\",\"amount\":10,\"currency\":\"EUR\"}")]),
        Bytes("lone 0xFF byte", "/orders", [.. Encoding.UTF8.GetBytes("{\"customerId\":\""), 0xFF, .. Encoding.UTF8.GetBytes("\",\"amount\":10,\"currency\":\"EUR\"}")]),
        Bytes("UTF-16 body", "/orders", Encoding.Unicode.GetBytes(Valid)),
        // Deeply nested JSON.
        Json("200 nested objects", "/orders", string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200)),
        Json("5,000 nested arrays", "/orders", new string('[', 5000) + new string(']', 5000)),
        Json("nested customer", "/orders", $$$"""{"customerId":{{{string.Concat(Enumerable.Repeat("{\"a\":", 100))}}}1{{{new string('}', 100)}}},"amount":10,"currency":"EUR"}"""),
        // Duplicate properties: which value would a reader believe? A proxy in front may read the first,
        // System.Text.Json would take the last; the service refuses them (AllowDuplicateProperties = false).
        Json("duplicate customerId", "/orders", """{"customerId":"a","customerId":"b","amount":10,"currency":"EUR"}"""),
        Json("duplicate amount", "/orders", """{"customerId":"c","amount":-1,"amount":10,"currency":"EUR"}"""),
        Json("duplicate orderId", "/orders/confirm", $$"""{"orderId":"{{UnknownId}}","orderId":"{{UnknownId}}"}"""),
        // SQL-looking text where it cannot be valid.
        Json("SQL in currency", "/orders", """{"customerId":"c","amount":10,"currency":"EU'; DROP TABLE orders;--"}"""),
        Json("SQL in orderId", "/orders/confirm", """{"orderId":"' OR '1'='1"}"""),
        Json("SQL in amount", "/orders", """{"customerId":"c","amount":"10; DELETE FROM outbox_messages","currency":"EUR"}"""),
        // Wrong media types.
        new("form-encoded body", HttpMethod.Post, "/orders", Encoding.UTF8.GetBytes("customerId=c&amount=10&currency=EUR"), "application/x-www-form-urlencoded", 415),
        new("XML body", HttpMethod.Post, "/orders", Encoding.UTF8.GetBytes("<order><customerId>c</customerId></order>"), "application/xml", 415),
        new("no content type", HttpMethod.Post, "/orders", Encoding.UTF8.GetBytes(Valid), null, 415),
        // Unknown ids, routes and methods.
        new("GET order with a malformed id", HttpMethod.Get, "/orders/1%27%20OR%20%271%27%3D%271", null, null, 404),
        new("GET order with an empty id", HttpMethod.Get, "/orders/%20", null, null, 404),
        new("GET order with a 5,000-character id", HttpMethod.Get, "/orders/" + new string('9', 5000), null, null, 404),
        new("GET order by path traversal", HttpMethod.Get, "/orders/..%2F..%2Fetc%2Fpasswd", null, null, 404),
        new("re-export with a malformed id", HttpMethod.Post, "/orders/not-a-guid/exports", null, null, 404),
        new("DELETE an order", HttpMethod.Delete, $"/orders/{UnknownId}", null, null, 405),
        new("PUT the orders collection", HttpMethod.Put, "/orders", Encoding.UTF8.GetBytes(Valid), "application/json", 405),
        new("unknown route", HttpMethod.Get, "/orderz", null, null, 404),
        new("replay of an unknown dead letter", HttpMethod.Post, "/dead-letters/987654321/replay", null, null, 404, OperatorKey: true),
        new("discard of an unknown dead letter", HttpMethod.Post, "/dead-letters/987654321/discard", null, null, 404, OperatorKey: true),
        new("dead letter id beyond long", HttpMethod.Post, "/dead-letters/99999999999999999999999/replay", null, null, 404, OperatorKey: true),
        new("dead letters with a bad status filter", HttpMethod.Get, "/dead-letters?status=Nope", null, null, 400, OperatorKey: true),
        new("dead letters with a bad order filter", HttpMethod.Get, "/dead-letters?orderId=abc", null, null, 400, OperatorKey: true),
        // Routes that set no body limit of their own get the service's 16 KiB, not Kestrel's 30 MB.
        new("17 KiB body to a replay", HttpMethod.Post, "/dead-letters/987654321/replay",
            Encoding.UTF8.GetBytes($$"""{"pad":"{{new string('x', 17 * 1024)}}"}"""), "application/json", 413, OperatorKey: true),
    ];

    /// <summary>Case names (unique), so each case is its own test in the results.</summary>
    public static TheoryData<string> Cases => new(Corpus.Select(c => c.Name));

    /// <summary>Valid data that looks like an attack: stored and exported exactly as sent.</summary>
    private static readonly string[] SqlLookingCustomers =
    [
        "Robert'); DELETE FROM outbox_messages;--",
        "1 OR 1=1",
        "$$; SELECT pg_sleep(10); $$",
        "\\x00'; COPY orders TO '/tmp/x';--",
        "<script>alert(1)</script>",
        "Zoë Ñúñez 中文 😀 𠮷野家",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadRequest_IsAnswered4xxProblemDetails_AndWritesNothing(string name)
    {
        var bad = Corpus.Single(c => c.Name == name);
        var rowsBefore = await CountRowsAsync(service.Rig.Database.ConnectionString);

        using var response = await SendAsync(bad.OperatorKey ? service.Operator : service.Http, bad);

        await ShouldBeProblemAsync(response, bad);
        (await CountRowsAsync(service.Rig.Database.ConnectionString)).ShouldBe(rowsBefore, $"{bad.Name}: nothing written");
    }

    /// <summary>Characters outside the BMP are two UTF-16 code units, not control characters.</summary>
    [Fact]
    public async Task CustomerIdsWithEmojiOrRareCjk_AreStoredVerbatim()
    {
        var orders = new OrdersClient(service.Http);
        foreach (var customer in new[] { "Chloé 😀", "𠮷野家" })
        {
            var created = await orders.CreateAsync(customer);
            (await orders.GetAsync(created.Id)).CustomerId.ShouldBe(customer);
        }
    }

    [Fact]
    public async Task WholeCorpusAgainstOneService_LeavesItHealthy_AndANormalOrderStillExports_AndSqlLookingTextIsData()
    {
        var (rig, app, http) = (service.Rig, service.App, service.Http);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rowsBefore = await CountRowsAsync(rig.Database.ConnectionString);
        var problems = new List<string>();

        foreach (var bad in Corpus)
        {
            using var response = await SendAsync(bad.OperatorKey ? service.Operator : http, bad);
            try
            {
                await ShouldBeProblemAsync(response, bad);
            }
            catch (ShouldAssertException e)
            {
                problems.Add(e.Message);
            }
        }

        problems.ShouldBeEmpty();
        (await CountRowsAsync(rig.Database.ConnectionString)).ShouldBe(rowsBefore, "the corpus wrote nothing");
        (await http.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Afterwards: normal orders, SQL-looking customers among them, go all the way to the platform verbatim.
        var orders = new OrdersClient(http);
        var sent = new Dictionary<Guid, string>();
        foreach (var customer in SqlLookingCustomers.Append("customer-after-the-corpus"))
        {
            var order = await orders.CreateConfirmedAsync(customer);
            sent[order.Id] = customer;
            (await orders.GetAsync(order.Id)).CustomerId.ShouldBe(customer);
        }

        var drain = await rig.WaitForDrainAsync(TimeSpan.FromSeconds(60));
        foreach (var (orderId, customer) in sent)
        {
            var exported = app.Platform.Exported.Single(r => r.OrderId == orderId);
            JsonDocument.Parse(exported.Body).RootElement.GetProperty("customerId").GetString().ShouldBe(customer);
        }

        var audit = await rig.AuditAsync();
        audit.ShouldKeepThePromise(sent.Keys);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S8",
            "Bad HTTP input",
            nameof(WholeCorpusAgainstOneService_LeavesItHealthy_AndANormalOrderStillExports_AndSqlLookingTextIsData),
            $"{Corpus.Count} bad requests ({Corpus.Count(c => c.Status == 400)} x 400, {Corpus.Count(c => c.Status == 404)} x 404, "
                + $"{Corpus.Count(c => c.Status == 405)} x 405, {Corpus.Count(c => c.Status == 413)} x 413, {Corpus.Count(c => c.Status == 415)} x 415): "
                + "malformed JSON, wrong types, missing fields, huge bodies, long strings, control characters, invalid UTF-8, "
                + "deep nesting, SQL-looking text, wrong media types, unknown ids, routes and methods, duplicate properties") with
        {
            OrdersSent = sent.Count,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = clock.Elapsed.TotalSeconds,
            Notes = $"every bad request got its 4xx ProblemDetails and wrote nothing; /health/live stayed 200; {SqlLookingCustomers.Length} "
                + "SQL-, script- or Unicode-looking customer ids (emoji and CJK extension B included) were stored and exported verbatim",
        });
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, BadRequest bad)
    {
        using var request = new HttpRequestMessage(bad.Method, bad.Path);
        if (bad.Body is not null)
        {
            request.Content = new ByteArrayContent(bad.Body);
            if (bad.ContentType is not null)
            {
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(bad.ContentType);
            }
        }

        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, BadRequest bad)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        ((int)response.StatusCode).ShouldBe(bad.Status, $"{bad.Name}: {text}");
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", bad.Name);
        using var problem = JsonDocument.Parse(text);
        problem.RootElement.GetProperty("status").GetInt32().ShouldBe(bad.Status, bad.Name);
        problem.RootElement.GetProperty("type").GetString()!.ShouldStartWith("urn:orderexport:problem:", Case.Sensitive, bad.Name);
        text.ShouldNotContain("   at ", Case.Sensitive, $"{bad.Name}: no stack trace");
    }

    private static async Task<long> CountRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM outbox_messages) + (SELECT count(*) FROM dead_letters)", connection);
        return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>One service (and database) for the whole corpus.</summary>
    public sealed class Service(KafkaTestBroker broker) : IAsyncLifetime
    {
        public ReliabilityRig Rig { get; private set; } = null!;

        public OrderExportApp App { get; private set; } = null!;

        public HttpClient Http { get; private set; } = null!;

        public HttpClient Operator { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Rig = await ReliabilityRig.CreateAsync(broker);
            (App, Http) = Rig.StartApp();
            Operator = App.OperatorClient();
        }

        public ValueTask DisposeAsync() => Rig.DisposeAsync();
    }
}
