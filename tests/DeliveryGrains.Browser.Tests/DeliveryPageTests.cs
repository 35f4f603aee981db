using System.Text.Json;
using System.Text.RegularExpressions;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Profiles;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>
/// The delivery page, the seed's Deployment block, through an operator's day: prepare and read the
/// exclusions, confirm as a supervisor while another page watches the figures move without a reload,
/// pause, resume, stop, Compute stats, then a sending log and its profile's history.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class DeliveryPageTests(ConsoleFixture fixture)
{
    /// <summary>How long a live figure may take to show: the silo pushes within a second; the machine may be busy.</summary>
    private const float LiveBound = 20_000;

    /// <summary>How long a new chart point may take: the delivery takes one a second in its first hour, plus the push.</summary>
    private const float ChartBound = LiveBound;

    private static readonly Caller MarketerCaller = new(ConsoleFixture.Marketer.Name, ConsoleFixture.Marketer.Roles.ToHashSet());

    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R1.1")]
    public async Task A_marketer_prepares_reads_the_exclusions_by_reason_and_is_offered_no_Confirm()
    {
        var tag = Unique();
        var duplicate = $"dup.{tag}@example.com";
        var id = await CreateAsync($"Prepare {tag}",
        [
            new("p-1", $"ann.{tag}@example.com"), new("p-2", duplicate), new("p-3", duplicate),
            new("p-4", ""), new("p-5", "not-an-address"), new("p-6", $"bob.{tag}@example.com"),
        ]);
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{id}");
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Draft");
        await page.GetByRole(AriaRole.Button, new() { Name = "Prepare", Exact = true }).ClickAsync();

        await Expect(page.GetByTestId("done")).ToContainTextAsync("Prepared: 3 emails to deliver, 3 excluded.");
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Ready");
        await Expect(page.GetByTestId("kpi-toDeliver")).ToHaveTextAsync("3");
        var byReason = page.GetByTestId("exclusions-by-reason");
        await Expect(byReason.Locator("tr[data-reason=AddressEmpty] td.num")).ToHaveTextAsync("1");
        await Expect(byReason.Locator("tr[data-reason=InvalidAddress] td.num")).ToHaveTextAsync("1");
        await Expect(byReason.Locator("tr[data-reason=Duplicate] td.num")).ToHaveTextAsync("1");

        // Without StartDeliveries neither the button nor its dialog is in the page…
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Confirm send" })).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("confirm-dialog")).ToHaveCountAsync(0);
        await ConsoleFixture.ScreenshotAsync(page, "delivery-prepared");

        // …and a confirm posted anyway, with this session's valid token, is refused naming the role.
        var response = await PostAsync(context, page, id, "Confirm");
        Assert.Equal(403, response.Status);
        Assert.Equal("StartDeliveries", JsonDocument.Parse(await response.TextAsync()).RootElement.GetProperty("missingRole").GetString());
        Assert.Equal(DeliveryStatus.Ready, (await Delivery(id).GetViewAsync()).Status);
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    [Trait("Rule", "R1.1")]
    public async Task A_supervisor_confirms_in_the_dialog_while_an_open_page_watches_sent_and_delivered_grow_without_a_reload()
    {
        const int recipients = 300;
        var tag = Unique();
        var id = await CreateAsync($"Live {tag}", Recipients(tag, recipients), efs: true,
            mta: new MtaSettings(MtaKind.Simulated, HardBounceRate: 0.05, SoftBounceRate: 0, OpenRate: 0.4, ClickRate: 0.1, FeedbackDelay: TimeSpan.FromSeconds(1)));
        await Delivery(id).PrepareAsync(MarketerCaller);

        // The watching page is opened before the send and never navigates again.
        var (watching, watcher) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var w = watching;
        await watcher.GotoAsync($"/deliveries/{id}");
        await Expect(watcher.GetByTestId("live")).ToHaveTextAsync("live");
        await Expect(watcher.GetByTestId("kpi-sent")).ToHaveTextAsync("0");
        await watcher.EvaluateAsync("() => { window.notReloaded = true; }");

        var (supervising, supervisor) = await fixture.SignedInAsync(ConsoleFixture.Supervisor);
        await using var s = supervising;
        await supervisor.GotoAsync($"/deliveries/{id}");
        await supervisor.GetByRole(AriaRole.Button, new() { Name = "Confirm send" }).ClickAsync();
        var dialog = supervisor.GetByTestId("confirm-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.GetByTestId("confirm-summary")).ToContainTextAsync($"{recipients} emails will go to the {recipients} recipients left of the target of Live {tag}");
        await ConsoleFixture.ScreenshotAsync(supervisor, "delivery-confirm-dialog");
        await dialog.GetByRole(AriaRole.Button, new() { Name = $"Send {recipients} emails" }).ClickAsync();
        await Expect(supervisor.GetByTestId("done")).ToContainTextAsync("Send confirmed");

        // The open page follows: every message sent, then every outcome, with no reload in between.
        await Expect(watcher.GetByTestId("kpi-sent")).ToHaveTextAsync($"{recipients}", new() { Timeout = LiveBound });
        await Expect(watcher.GetByTestId("progress")).ToHaveTextAsync("100 %", new() { Timeout = LiveBound });
        await Expect(watcher.GetByTestId("kpi-pending")).ToHaveTextAsync("0", new() { Timeout = LiveBound });
        var delivered = long.Parse((await watcher.GetByTestId("kpi-delivered").TextContentAsync())!.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
        var bounced = long.Parse((await watcher.GetByTestId("kpi-bouncesAndErrors").TextContentAsync())!.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(recipients, delivered + bounced);
        Assert.True(delivered > 0);
        await Expect(watcher.GetByTestId("status")).ToHaveTextAsync("Sent", new() { Timeout = LiveBound });
        // The chart follows the outcomes point by point (a point a second in the first hour).
        await Expect(watcher.Locator("[data-testid=charts] polyline[data-series=sent]")).ToHaveAttributeAsync("data-last", $"{recipients}", new() { Timeout = ChartBound });
        Assert.True(await watcher.EvaluateAsync<bool>("() => window.notReloaded === true"), "the watching page was reloaded");
        await ConsoleFixture.ScreenshotAsync(watcher, "delivery-live");
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task A_supervisor_pauses_and_resumes_a_delivery_and_stops_another_after_confirming()
    {
        var tag = Unique();
        var first = await SentAsync($"Pause {tag}", Recipients(tag, 5));
        var second = await SentAsync($"Stop {tag}", Recipients(tag + "s", 5));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Supervisor);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{first}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Paused");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToBeHiddenAsync();
        await ConsoleFixture.ScreenshotAsync(page, "delivery-paused");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Sent");
        Assert.Equal(DeliveryStatus.Sent, (await Delivery(first).GetViewAsync()).Status);

        await page.GotoAsync($"/deliveries/{second}");
        string? asked = null;
        page.Dialog += async (_, dialog) =>
        {
            asked = dialog.Message;
            await dialog.AcceptAsync();
        };
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Stopped");
        Assert.Contains($"Stop 'Stop {tag}' for good?", asked, StringComparison.Ordinal);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeHiddenAsync();
        Assert.Equal(DeliveryStatus.Stopped, (await Delivery(second).GetViewAsync()).Status);
        Assert.Equal(DeliveryStatus.Sent, (await Delivery(first).GetViewAsync()).Status);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Compute_stats_shows_the_recount_beside_the_running_figures_and_whether_they_differed()
    {
        var tag = Unique();
        var id = await SentAsync($"Stats {tag}", Recipients(tag, 4));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{id}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Compute stats" }).ClickAsync();

        var recount = page.GetByTestId("recount");
        await Expect(recount.GetByTestId("recount-verdict")).ToHaveTextAsync("The recount from the sending logs matched the running figures.");
        var sent = recount.Locator("tr", new() { HasText = "Sent" }).First;
        await Expect(sent.Locator("td.num").Nth(0)).ToHaveTextAsync("4");
        await Expect(sent.Locator("td.num").Nth(1)).ToHaveTextAsync("4");
        await ConsoleFixture.ScreenshotAsync(page, "delivery-compute-stats");
    }

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R10.1")]
    public async Task The_creator_finds_a_log_by_address_opens_it_and_follows_it_to_the_profile_history()
    {
        var tag = Unique();
        var recipients = Recipients(tag, 8);
        var id = await SentAsync($"Logs {tag}", recipients);
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{id}");
        await page.GetByTestId("all-logs").ClickAsync();
        await Expect(page.GetByTestId("logs").Locator("tbody tr")).ToHaveCountAsync(8);
        await ConsoleFixture.ScreenshotAsync(page, "delivery-logs");

        await page.GetByLabel("Profile id or address").FillAsync(recipients[5].Address!.ToUpperInvariant());
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        var rows = page.GetByTestId("logs").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await rows.GetByRole(AriaRole.Link, new() { Name = recipients[5].ProfileId }).ClickAsync();

        await Expect(page.GetByTestId("log-address")).ToHaveTextAsync(recipients[5].Address!);
        await Expect(page.GetByTestId("log-status")).ToHaveTextAsync("Pending");
        await Expect(page.GetByTestId("log-attempts")).ToHaveTextAsync("1");
        await Expect(page.GetByTestId("log-events")).ToContainTextAsync("Relayed to the MTA");
        await ConsoleFixture.ScreenshotAsync(page, "delivery-log");

        await page.GetByTestId("profile-history-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/profiles/{Regex.Escape(recipients[5].ProfileId)}$"));
        await Expect(page.GetByTestId("profile-history").Locator($"tr[data-delivery='{id}']")).ToContainTextAsync($"Logs {tag}");
        await ConsoleFixture.ScreenshotAsync(page, "profile-history");
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task Actions_of_another_role_are_refused_by_the_server_and_an_unknown_delivery_is_404()
    {
        var tag = Unique();
        var id = await SentAsync($"Forged {tag}", Recipients(tag, 2));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync($"/deliveries/{id}");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Stop" })).ToHaveCountAsync(0);

        foreach (var handler in new[] { "Pause", "Stop" })
        {
            var response = await PostAsync(context, page, id, handler);
            Assert.Equal(403, response.Status);
            Assert.Equal("StartDeliveries", JsonDocument.Parse(await response.TextAsync()).RootElement.GetProperty("missingRole").GetString());
        }

        Assert.Equal(DeliveryStatus.Sent, (await Delivery(id).GetViewAsync()).Status);
        var missing = await page.GotoAsync($"/deliveries/{Unique()}");
        Assert.Equal(404, missing!.Status);
        await Expect(page.GetByTestId("action-error")).ToContainTextAsync("No delivery has the id");
    }

    [Fact]
    [Trait("Rule", "R2")]
    [Trait("Rule", "R12.3")]
    [Trait("Rule", "R8.3")]
    public async Task A_throttled_delivery_stays_in_progress_with_its_domains_live_and_its_bounces_reported()
    {
        // One message a minute on capped.test (minutes of the clock): its six messages need at least four
        // more minute boundaries, far longer than this test, so the delivery is InProgress throughout by
        // construction; one boundary may fall within the test and let a second one through. Every
        // bounce.test message bounces.
        const string capped = "capped.test";
        const string bouncing = "bounce.test";
        var tag = Unique();
        List<Recipient> recipients =
        [
            .. Enumerable.Range(0, 6).Select(i => new Recipient($"{tag}-c{i}", $"c{i}.{tag}@{capped}")),
            .. Enumerable.Range(0, 4).Select(i => new Recipient($"{tag}-b{i}", $"b{i}.{tag}@{bouncing}")),
        ];
        var scenario = new SimulatorScenario("throttled", [
            new ScenarioDomain(capped, 0.6, 1, HardBounceRate: 0, SoftBounceRate: 0, Latency: null, Greylist: null, Opens: new(0, null), Clicks: new(0, null)),
            new ScenarioDomain(bouncing, 0.4, null, HardBounceRate: 1, SoftBounceRate: 0, Latency: null, Greylist: null, Opens: new(0, null), Clicks: new(0, null)),
        ]);
        var id = await CreateAsync($"Throttled {tag}", recipients,
            mta: new MtaSettings(MtaKind.Simulated, FeedbackDelay: TimeSpan.Zero, Scenario: scenario));
        await Delivery(id).PrepareAsync(MarketerCaller);
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync($"/deliveries/{id}");
        await Expect(page.GetByTestId("live")).ToHaveTextAsync("live");
        await Expect(page.GetByTestId("domains-block")).ToBeHiddenAsync();
        var reports = page.GetByTestId("reports");
        await Expect(reports.GetByTestId("bounces-none")).ToBeVisibleAsync();
        await Expect(reports.GetByTestId("bounces-by-reason")).ToBeHiddenAsync();

        // Confirmed elsewhere: the open page shows the domains as they come, over its event stream.
        await Delivery(id).ConfirmSendAsync(new Caller(ConsoleFixture.Supervisor.Name, ConsoleFixture.Supervisor.Roles.ToHashSet()));
        var domains = page.GetByTestId("domains");
        var cappedRow = domains.Locator($"tr[data-domain='{capped}'] td");
        var bouncingRow = domains.Locator($"tr[data-domain='{bouncing}'] td");
        await Expect(bouncingRow.Nth(3)).ToHaveTextAsync("4", new() { Timeout = LiveBound });
        await Expect(cappedRow.Nth(1)).ToHaveTextAsync(new Regex("^[12]$"), new() { Timeout = LiveBound });
        await Expect(cappedRow.Nth(5)).ToHaveTextAsync("1", new() { Timeout = LiveBound });
        await Expect(page.GetByTestId("kpi-sent")).ToHaveTextAsync(new Regex("^[56]$"), new() { Timeout = LiveBound });
        await Expect(page.GetByTestId("kpi-deferred")).Not.ToHaveTextAsync("0", new() { Timeout = LiveBound });
        Assert.NotEqual("0", await cappedRow.Nth(4).TextContentAsync());

        // The Reports section follows too, without a reload: the bounces by reason and by domain.
        await Expect(reports.GetByTestId("bounces-by-reason").Locator("tr[data-type=Hard][data-reason=UserUnknown] td.num").First).ToHaveTextAsync("4", new() { Timeout = LiveBound });
        await Expect(reports.GetByTestId("bounces-by-reason")).ToBeVisibleAsync();
        await Expect(reports.GetByTestId("bounces-none")).ToBeHiddenAsync();
        await Expect(reports.GetByTestId("bounces-by-domain").Locator($"tr[data-domain='{bouncing}'] td").Nth(1)).ToHaveTextAsync("4", new() { Timeout = LiveBound });
        await Expect(reports.GetByTestId("bounces-by-domain").Locator("tbody tr").First).ToHaveAttributeAsync("data-domain", bouncing);

        // R2: all handed, four or five messages still behind the cap: In progress, also after a reload.
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("In progress");
        Assert.Equal(DeliveryStatus.InProgress, (await Delivery(id).GetViewAsync()).Status);
        await Expect(page.GetByTestId("kpi-rate")).Not.ToHaveTextAsync("—", new() { Timeout = LiveBound });

        // At phone width the table scrolls inside its card; the card does not overflow.
        Assert.Equal("auto", await page.GetByTestId("domains-scroll").EvaluateAsync<string>("e => getComputedStyle(e).overflowX"));
        Assert.True(await page.GetByTestId("deployment").EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"), "the Deployment card overflows at 390 px");
        await ConsoleFixture.ScreenshotAsync(page, "delivery-throttled-390");

        await page.SetViewportSizeAsync(1360, 900);
        await page.ReloadAsync();
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("In progress");
        await Expect(page.GetByTestId("domains").Locator($"tr[data-domain='{capped}'] td").Nth(5)).ToHaveTextAsync("1");
        await Expect(reports.GetByTestId("bounces-by-reason").Locator("tr[data-type=Hard][data-reason=UserUnknown] td.num").First).ToHaveTextAsync("4");
        await Expect(reports.GetByTestId("bounces-by-domain").Locator($"tr[data-domain='{bouncing}'] td").Nth(1)).ToHaveTextAsync("4");
        await Expect(reports.GetByTestId("bounces-by-domain").Locator($"tr[data-domain='{capped}'] td").Nth(1)).ToHaveTextAsync("0");

        // The chart's axis: whole numbers from 0 in equal steps, the last one the first step at or above the highest figure.
        var ticks = (await page.Locator("#chart-progress text.dg-tick-y").AllTextContentsAsync()).Select(long.Parse).ToList();
        var highest = long.Parse((await page.Locator("#chart-progress polyline[data-series=sent]").GetAttributeAsync("data-last"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, ticks[0]);
        Assert.All(ticks.Skip(1).Select((t, i) => t - ticks[i]), step => Assert.Equal(ticks[1], step));
        Assert.True(ticks[^1] >= highest && ticks[^1] - ticks[1] < Math.Max(highest, 1), $"ticks {string.Join(",", ticks)} for {highest} sent");
        await ConsoleFixture.ScreenshotAsync(page, "delivery-throttled-reports");
        await Delivery(id).StopAsync(new Caller(ConsoleFixture.Supervisor.Name, ConsoleFixture.Supervisor.Roles.ToHashSet()));
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task When_the_stream_drops_a_banner_says_since_when_the_figures_stand_until_it_is_back()
    {
        var tag = Unique();
        var id = await SentAsync($"Banner {tag}", Recipients(tag, 3));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;

        // The first stream ends at once (as when the silo goes away); the next one is held until the test lets it through.
        var streams = 0;
        var reconnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/api/deliveries/*/live", async route =>
        {
            if (Interlocked.Increment(ref streams) == 1)
            {
                await route.FulfillAsync(new() { Status = 200, ContentType = "text/event-stream", Body = "retry: 200\n\n" });
                return;
            }

            await reconnect.Task;
            await route.ContinueAsync();
        });
        await page.GotoAsync($"/deliveries/{id}");

        var banner = page.GetByTestId("connection-lost");
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToHaveTextAsync(new Regex(@"Connection lost — figures as of \d{2}:\d{2}:\d{2}\. Reconnecting…"));
        await Expect(page.GetByTestId("deployment")).ToHaveClassAsync(new Regex(@"\bstale\b"));
        await Expect(page.GetByTestId("live")).ToHaveTextAsync("reconnecting…");
        await ConsoleFixture.ScreenshotAsync(page, "delivery-connection-lost");

        reconnect.SetResult();
        await Expect(page.GetByTestId("live")).ToHaveTextAsync("live", new() { Timeout = LiveBound });
        await Expect(banner).ToBeHiddenAsync();
        await Expect(page.GetByTestId("deployment")).Not.ToHaveClassAsync(new Regex(@"\bstale\b"));
        await Expect(page.GetByTestId("kpi-sent")).ToHaveTextAsync("3");
    }

    [Fact]
    [Trait("Rule", "R11.2")]
    public async Task An_sms_delivery_shows_no_open_or_click_rate()
    {
        var id = Unique();
        var definition = new DeliveryDefinition($"Sms {id}", Channel.Sms, false, TimeSpan.FromDays(1), TimeSpan.FromHours(1), 3,
            SendAt: null, RequestConfirmation: true, [new Recipient($"{id}-0", "+15550001234")], GeneratedTarget: null, new MtaSettings(MtaKind.External));
        await Delivery(id).CreateAsync(definition, MarketerCaller);
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{id}");

        await Expect(page.GetByTestId("kpi-deliveredRate")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("kpi-openRate")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("kpi-clickThroughRate")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("deployment")).Not.ToContainTextAsync("Open rate");
    }

    private IDeliveryGrain Delivery(string id) => fixture.Grains.GetGrain<IDeliveryGrain>(id);

    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    private static List<Recipient> Recipients(string tag, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Recipient($"{tag}-{i}", $"r{i}.{tag}@example.com"))];

    /// <summary>A delivery created by the marketer (so the marketer may read its logs), in Draft.</summary>
    private async Task<string> CreateAsync(string name, IReadOnlyList<Recipient> recipients, bool efs = false, MtaSettings? mta = null)
    {
        var id = Unique();
        var definition = new DeliveryDefinition(name, Channel.Email, efs, TimeSpan.FromDays(1), TimeSpan.FromHours(1), 3,
            SendAt: null, RequestConfirmation: true, recipients, GeneratedTarget: null, mta ?? new MtaSettings(MtaKind.External));
        await Delivery(id).CreateAsync(definition, MarketerCaller);
        return id;
    }

    /// <summary>
    /// A delivery relayed to the external MTA and waiting for its outcomes (status Sent): it stays so
    /// for the whole test, so pause, resume and stop are allowed by construction.
    /// </summary>
    private async Task<string> SentAsync(string name, IReadOnlyList<Recipient> recipients)
    {
        var id = await CreateAsync(name, recipients, efs: true);
        await Delivery(id).PrepareAsync(MarketerCaller);
        await Delivery(id).ConfirmSendAsync(new Caller(ConsoleFixture.Supervisor.Name, ConsoleFixture.Supervisor.Roles.ToHashSet()));
        await Eventually.Until(Delivery(id).GetViewAsync, v => v is { Status: DeliveryStatus.Sent, Kpis.Sent: var sent } && sent == recipients.Count,
            $"{name} relayed", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(20));

        return id;
    }

    /// <summary>A page handler POST made outside the page, with this session's valid antiforgery token.</summary>
    private static async Task<IAPIResponse> PostAsync(IBrowserContext context, IPage page, string id, string handler)
    {
        var token = await page.Locator("input[name=__console_token]").First.GetAttributeAsync("value");
        var form = context.APIRequest.CreateFormData();
        form.Set("__console_token", token!);
        return await context.APIRequest.PostAsync($"/deliveries/{id}?handler={handler}", new() { Form = form, MaxRedirects = 0 });
    }
}
