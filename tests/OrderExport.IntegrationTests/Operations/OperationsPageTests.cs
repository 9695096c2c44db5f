using Microsoft.Playwright;
using OrderExport.Api;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Operations;
using OrderExport.Orders;
using static Microsoft.Playwright.Assertions;

namespace OrderExport.IntegrationTests.Operations;

/// <summary>
/// The operations page in a real browser (Debian's Chromium, headless) against the real service on
/// a socket: what an operator sees and does. Playwright's assertions wait for the page's polling;
/// nothing here sleeps.
/// </summary>
public sealed class OperationsPageTests(KafkaTestBroker broker)
{
    private static readonly LocatorAssertionsToHaveTextOptions Text = new() { Timeout = 30_000 };
    private static readonly LocatorAssertionsToContainTextOptions Contains = new() { Timeout = 30_000 };

    [Fact]
    public async Task TheRootOpensThePage_AndAConfirmedOrderReachesExported_WithItsJourney()
    {
        await using var session = await OperationsPageSession.StartAsync(broker);
        var page = session.Page;

        var response = await page.GotoAsync("/");
        page.Url.ShouldEndWith(OperationsApi.PagePath);
        (await response!.HeaderValueAsync("content-security-policy")).ShouldBe(OperationsApi.ContentSecurityPolicy);
        await Expect(page.Locator("h1")).ToHaveTextAsync("OrderExport operations");
        await Expect(page.Locator("#readiness [data-check=database]")).ToContainTextAsync("Healthy", Contains);
        await Expect(page.Locator("#readiness [data-check=kafka]")).ToContainTextAsync("Healthy", Contains);

        var order = await session.Orders.CreateConfirmedAsync("browser-customer");

        var row = page.Locator($"#orders-table tr[data-order-id='{order.Id}']");
        await Expect(row.Locator(".export-status")).ToHaveTextAsync("Exported", Text);
        await row.GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator("#journey-status")).ToHaveTextAsync("Exported", Text);
        var exported = page.Locator("#journey-steps li[data-step='Exported']");
        await Expect(exported).ToContainTextAsync("Done", Contains);
        await Expect(exported.Locator(".trace code")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9a-f]{32}$"), Text);
        await Expect(page.Locator("#journey-steps li[data-step='Platform attempt 1']")).ToContainTextAsync("HTTP 200", Contains);
        await Expect(page.Locator("#journey-steps li[data-step='Published']")).ToContainTextAsync("@ offset 0", Contains);
        await Expect(page.Locator("#rate-now")).ToContainTextAsync("exported/s", Contains);

        // The search: an id the service does not know shows the 404's words; one it knows, its journey.
        var unknown = Guid.NewGuid();
        await page.Locator("#order-search-id").FillAsync(unknown.ToString());
        await page.Locator("#order-search button[type=submit]").ClickAsync();
        await Expect(page.Locator("#journey-error")).ToHaveTextAsync($"404 Order not found: There is no order {unknown}.", Text);
        await page.Locator("#order-search-id").FillAsync(order.Id.ToString());
        await page.Locator("#order-search button[type=submit]").ClickAsync();
        await Expect(page.Locator("#journey-status")).ToHaveTextAsync("Exported", Text);
        await Expect(page.Locator("#journey-error")).ToBeHiddenAsync();

        session.ConsoleErrors.ShouldBeEmpty("the page ran without script errors or CSP violations");
    }

    [Fact]
    public async Task TheKafkaPanel_ShowsThreePartitionsPerTopic_AndTheGroupLagReturnsToZero()
    {
        await using var session = await OperationsPageSession.StartAsync(broker);
        var page = session.Page;
        var topics = session.App.Topics;
        await session.OpenAsync();

        for (var i = 0; i < 3; i++)
        {
            await session.Orders.CreateConfirmedAsync($"kafka-customer-{i}");
        }

        await Expect(page.Locator($"[data-topic='{topics.Topic}'] tbody tr[data-partition]")).ToHaveCountAsync(3, new() { Timeout = 30_000 });
        await Expect(page.Locator($"[data-topic='{topics.DeadLetterTopic}'] tbody tr[data-partition]")).ToHaveCountAsync(3, new() { Timeout = 30_000 });
        await Expect(page.Locator("#kafka-brokers li").First).ToContainTextAsync("Broker", Contains);
        await Expect(page.Locator("#kafka-group-id")).ToHaveTextAsync(topics.ConsumerGroup, Text);
        // Three records went in: the ends add up to 3, and the group's committed offsets catch up.
        await Expect(page.Locator("#kafka-group-offsets tbody tr")).ToHaveCountAsync(3, new() { Timeout = 30_000 });
        await Expect(page.Locator("#kafka-group-lag")).ToHaveTextAsync("0", Text);
        await Expect(page.Locator("#kafka-group-offsets tbody tr .lag")).ToHaveTextAsync(["0", "0", "0"], new() { Timeout = 30_000 });

        if (broker.IsEmbedded)
        {
            // librdkafka's mock cluster does not implement DescribeConsumerGroups: the page says so,
            // and shows the partitions this instance's consumer owns instead.
            await Expect(page.Locator("#kafka-group-error")).ToContainTextAsync("DescribeConsumerGroups", Contains);
            await Expect(page.Locator("#kafka-group-state")).ToHaveTextAsync("Unknown", Text);
            await Expect(page.Locator("#kafka-group-members .local-assignment")).ToContainTextAsync("partitions 0, 1, 2", Contains);
        }
        else
        {
            await Expect(page.Locator("#kafka-group-state")).ToHaveTextAsync("Stable", Text);
        }

        session.ConsoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task ARejectedOrder_IsDeadLettered_AndReplayedFromThePageWithTheKey_ThenExported()
    {
        await using var session = await OperationsPageSession.StartAsync(broker);
        var page = session.Page;
        await session.OpenAsync();
        var order = await session.Orders.CreateAsync("rejected-customer");
        session.App.PlatformBehavior.Reject(order.Id);
        await session.Orders.ConfirmAsync(order.Id);

        var row = page.Locator($"#orders-table tr[data-order-id='{order.Id}']");
        await Expect(row.Locator(".export-status")).ToHaveTextAsync("DeadLettered", Text);
        await Expect(page.Locator("#dead-letters-unresolved")).ToHaveTextAsync("1", Text);

        await session.UseKeyAsync(OrderExportApp.ApiKey);
        var deadLetter = page.Locator($"#dead-letters-list li[data-order-id='{order.Id}']");
        await Expect(deadLetter).ToContainTextAsync("Unresolved", Contains);
        await Expect(deadLetter).ToContainTextAsync("Key: " + order.Id, Contains);
        await Expect(deadLetter.Locator("pre.value")).ToContainTextAsync(order.Id.ToString(), Contains);
        await Expect(deadLetter).ToContainTextAsync("422", Contains);

        session.App.PlatformBehavior.Reset();
        await deadLetter.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(page.Locator("#dl-message")).ToContainTextAsync("Replay of dead letter", Contains);

        await Expect(row.Locator(".export-status")).ToHaveTextAsync("Exported", Text);
        await Expect(page.Locator("#dead-letters-unresolved")).ToHaveTextAsync("0", Text);
        session.App.Platform.Exported.Count(r => r.OrderId == order.Id).ShouldBe(1);

        // The filters: the dead letter is now listed as Replayed, found by its order id.
        await page.Locator("#dl-status").SelectOptionAsync("Replayed");
        await page.Locator("#dl-order").FillAsync(order.Id.ToString());
        await page.Locator("#dead-letter-filters button[type=submit]").ClickAsync();
        await Expect(deadLetter).ToContainTextAsync("Replayed", Contains);
        await Expect(page.Locator("#dead-letters-list li")).ToHaveCountAsync(1);
        await Expect(deadLetter.GetByRole(AriaRole.Button, new() { Name = "Replay" })).ToHaveCountAsync(0);
        session.ConsoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task AWrongKey_ShowsThe401ProblemDetails()
    {
        await using var session = await OperationsPageSession.StartAsync(broker);
        var page = session.Page;
        await session.OpenAsync();

        await session.UseKeyAsync("not-the-operations-key");

        await Expect(page.Locator("#dl-message")).ToHaveTextAsync(
            $"401 Unauthorized: This operation needs a valid {OperationsOptions.HeaderName} header.", Text);
        await Expect(page.Locator("#dead-letters-list li")).ToHaveCountAsync(0);
        // The key lives in the tab's sessionStorage only.
        (await page.EvaluateAsync<int>("() => localStorage.length")).ShouldBe(0);
        (await page.EvaluateAsync<string>("() => sessionStorage.getItem('orderexport.operations.apiKey')")).ShouldBe("not-the-operations-key");
    }

    private const string WiderThanTheWindow = """
        () => [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.scroll'))
          .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}: right ${Math.round(el.getBoundingClientRect().right)}`)
        """;

    /// <summary>
    /// The page at 1280 and 390 px wide with some traffic, a dead letter and a journey open; saved
    /// under artifacts/test-results/screenshots/. With ORDEREXPORT_DOCS_SCREENSHOT=1 (eng/screenshot.sh)
    /// the 1280 px one is also written to docs/operations-page.png for the README.
    /// </summary>
    [Fact]
    public async Task Screenshots_At1280And390PixelsWide_FitTheWidth()
    {
        await using var session = await OperationsPageSession.StartAsync(broker);
        var page = session.Page;
        await session.OpenAsync();

        var rejected = await session.Orders.CreateAsync("screenshot-rejected");
        session.App.PlatformBehavior.Reject(rejected.Id);
        await session.Orders.ConfirmAsync(rejected.Id);
        OrderResponse? last = null;
        for (var i = 0; i < 8; i++)
        {
            last = await session.Orders.CreateConfirmedAsync($"screenshot-customer-{i}");
        }

        await Expect(page.Locator($"#orders-table tr[data-order-id='{last!.Id}'] .export-status")).ToHaveTextAsync("Exported", Text);
        await Expect(page.Locator($"#orders-table tr[data-order-id='{rejected.Id}'] .export-status")).ToHaveTextAsync("DeadLettered", Text);
        await Expect(page.Locator("#kafka-group-lag")).ToHaveTextAsync("0", Text);
        // The exports reached the per-second history (sampled each second) and the chart shows them.
        await Expect(page.Locator("#rate-now")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"(?!0\.0 )\d+\.\d exported/s"), Contains);
        await session.UseKeyAsync(OrderExportApp.ApiKey);
        await Expect(page.Locator($"#dead-letters-list li[data-order-id='{rejected.Id}']")).ToContainTextAsync("Unresolved", Contains);
        await page.Locator($"#orders-table tr[data-order-id='{last.Id}']").GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator("#journey-status")).ToHaveTextAsync("Exported", Text);

        var wide = await session.ScreenshotAsync("operations-1280");
        if (Environment.GetEnvironmentVariable("ORDEREXPORT_DOCS_SCREENSHOT") == "1")
        {
            File.Copy(wide, Path.Combine(OperationsPageSession.RepositoryRoot(), "docs", "operations-page.png"), overwrite: true);
        }

        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.Locator("#journey-status")).ToHaveTextAsync("Exported", Text);
        await session.ScreenshotAsync("operations-390");
        // Wide tables scroll inside their panel; nothing makes the page itself scroll sideways.
        (await page.EvaluateAsync<string[]>(WiderThanTheWindow)).ShouldBeEmpty("at 390 px these stick out of the window");
        session.ConsoleErrors.ShouldBeEmpty();
    }
}
