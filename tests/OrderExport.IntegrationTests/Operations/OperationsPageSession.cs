using Microsoft.Playwright;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Operations;

/// <summary>
/// The real service on a loopback socket (PostgreSQL, the run's test broker, its own fake platform)
/// and Debian's Chromium driven by Playwright, headless. Playwright's own browser download is never
/// used: eng/ensure-tools.sh installs the <c>chromium</c> package. Console errors (a Content-Security-Policy
/// violation, a failed script; not the 4xx answers the page shows in words) are collected so a test can
/// insist there were none.
/// </summary>
internal sealed class OperationsPageSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>As root in a closed network: no sandbox, and nothing that phones home (it would be refused).</summary>
    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly List<string> _consoleErrors = [];

    private OperationsPageSession(TestDatabase database, OrderExportApp app, Uri address, IPlaywright playwright, IBrowser browser, IPage page)
    {
        Database = database;
        App = app;
        Address = address;
        Playwright = playwright;
        Browser = browser;
        Page = page;
        Http = new HttpClient { BaseAddress = address };
        Orders = new OrdersClient(Http);
        page.Console += (_, message) =>
        {
            // A 401 or 404 the page asked for and shows in words is not an error of the page; Chromium logs it anyway.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal))
            {
                lock (_consoleErrors)
                {
                    _consoleErrors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_consoleErrors)
            {
                _consoleErrors.Add(error);
            }
        };
    }

    public TestDatabase Database { get; }

    public OrderExportApp App { get; }

    public Uri Address { get; }

    public IPlaywright Playwright { get; }

    public IBrowser Browser { get; }

    public IPage Page { get; }

    public HttpClient Http { get; }

    public OrdersClient Orders { get; }

    public IReadOnlyList<string> ConsoleErrors
    {
        get
        {
            lock (_consoleErrors)
            {
                return [.. _consoleErrors];
            }
        }
    }

    public static async Task<OperationsPageSession> StartAsync(KafkaTestBroker broker, int width = 1280, int height = 900)
    {
        File.Exists(ChromiumPath).ShouldBeTrue($"{ChromiumPath} is missing: run eng/ensure-tools.sh (installs Debian's chromium package)");
        var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, database.ConnectionString);
        var address = app.StartOnSocket();
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = address.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        var page = await context.NewPageAsync();
        return new OperationsPageSession(database, app, address, playwright, browser, page);
    }

    /// <summary>Opens <c>/</c>, which redirects to the page, and waits for its first refresh.</summary>
    public async Task OpenAsync()
    {
        await Page.GotoAsync("/");
        await Assertions.Expect(Page.Locator("#refresh-status")).ToContainTextAsync("Live: updated", new() { Timeout = 20_000 });
    }

    public async Task UseKeyAsync(string key)
    {
        await Page.Locator("#api-key").FillAsync(key);
        await Page.Locator("#api-key-form button[type=submit]").ClickAsync();
    }

    /// <summary>A full-page PNG under artifacts/test-results/screenshots/ (and, when asked, the README's copy under docs/).</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var root = RepositoryRoot();
        var folder = Path.Combine(root, "artifacts", "test-results", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    /// <summary>The folder holding OrderExport.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrderExport.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No OrderExport.sln above {AppContext.BaseDirectory}.");
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        Http.Dispose();
        await App.DisposeAsync();
        await Database.DisposeAsync();
    }
}
