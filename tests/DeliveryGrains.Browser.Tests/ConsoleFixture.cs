using DeliveryGrains.Silo.OperatorConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using DeliveryGrains.TestKit.Hosting;
using Microsoft.Playwright;

namespace DeliveryGrains.Browser.Tests;

/// <summary>
/// A real silo (the API, the console, the Orleans silo with the simulated MTA), built with the same
/// extension methods as Program.cs, and Debian's chromium driven by Playwright; both started once
/// for the collection. Kestrel listens on port 0 and the fixture reads the port it got, so two
/// test runs never collide; every test opens its own browser context (its own cookies).
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    /// <summary>The browser the tests drive: Debian's package, installed by .ci/run; Playwright never downloads one.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    public static readonly ApiUser Admin = ApiUser.Administrator("console-admin-key");
    public static readonly ApiUser Marketer = new("marketer", "console-marketer-key", ["PrepareDeliveries"]);
    public static readonly ApiUser Supervisor = new("supervisor", "console-supervisor-key", ["StartDeliveries"]);
    public static readonly ApiUser Monitor = new("monitor", "console-monitor-key", ["Monitoring"]);
    public static readonly IReadOnlyList<ApiUser> Users = [Admin, Marketer, Supervisor, Monitor];

    /// <summary>The console's <c>Console:MaxUploadBytes</c> here: small, so a test can cross it cheaply.</summary>
    public const long MaxUploadBytes = 256 * 1024;

    private WebApplication? _app;
    private IPlaywright? _playwright;

    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The silo is not started.");

    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    /// <summary>The SMTP server the silo's relay sends to (deliveries with <c>mta.kind</c> Smtp; the default stays Simulated).</summary>
    public DeliveryGrains.TestKit.Smtp.SmtpSink Smtp { get; } = new();

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"The browser tests drive Debian's chromium at {ChromiumPath}: install it with `apt-get install chromium` (.ci/run does).");
        }

        await Smtp.StartAsync();
        var silo = await StartSiloAsync(Smtp.Port);
        _app = silo.App;
        BaseAddress = silo.Address;

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await Smtp.DisposeAsync();
    }

    /// <summary>A fresh browser context (no cookies) on the silo, with a page; dispose the context when done.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1360, Height = 900 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        context.SetDefaultNavigationTimeout(30_000);
        return (context, await context.NewPageAsync());
    }

    /// <summary>A new context signed in as <paramref name="user"/> through the sign-in page, on the deliveries page.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignedInAsync(ApiUser user)
    {
        var (context, page) = await NewPageAsync();
        await SignInAsync(page, user.Key);
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToContainTextAsync(user.Name);
        return (context, page);
    }

    /// <summary>Fills the sign-in form with <paramref name="key"/> and sends it.</summary>
    public static async Task SignInAsync(IPage page, string key)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
    }

    /// <summary>A full-page screenshot in the test output folder (screenshots/NAME.png); its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    private static Task<StartedSilo> StartSiloAsync(int smtpPort)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Orleans:ClusterId"] = "browser-tests",
            ["DeliveryGrains:PartitionSize"] = "16",
            ["DeliveryGrains:FlushPeriod"] = "00:00:00.100",
            ["Mta:Kind"] = "Simulated",
            ["Mta:Smtp:Host"] = "127.0.0.1",
            ["Mta:Smtp:Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mta:Smtp:StartTls"] = "None",
            ["Mta:Smtp:From"] = "News <news@sender.example.com>",
            ["Mta:Smtp:BounceDomain"] = "bounces.example.com",

            // This silo listens on loopback, where the dashboard is open to anyone by default; closed here, it asks
            // for Monitoring or Administration as a silo on a network address does, so the browser meets its sign-in.
            ["Security:OpenMonitoringOnLoopback"] = "false",
            [$"{OperatorConsoleOptions.Section}:{nameof(OperatorConsoleOptions.MaxUploadBytes)}"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in ApiUser.Settings(Users))
        {
            settings[key] = value;
        }

        return InProcessSilo.StartAsync(settings, operatorConsole: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
