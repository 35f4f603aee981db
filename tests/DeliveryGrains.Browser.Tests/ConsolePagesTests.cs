using DeliveryGrains.Addresses;
using Deque.AxeCore.Playwright;
using DeliveryGrains.Deliveries;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>
/// The console on a phone and in trouble: every page fits 390 px with no axe-core violation, instants read in the browser's zone,
/// logs filtered and paged over the whole delivery, refusals told in place with the form kept, and
/// excluded addresses searched and released in bulk.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsolePagesTests(ConsoleFixture fixture)
{
    private static readonly Caller Operator = new(ConsoleFixture.Admin.Name, Roles.All.ToHashSet());

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Every_page_fits_a_phone_shows_local_times_and_the_logs_are_filtered_and_paged_over_the_whole_delivery()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var id = await PreparedAsync($"Phone {tag}", tag, 120);
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            Locale = "en-GB",
            TimezoneId = "Asia/Kolkata",
        });
        await using var _ = context;
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await ConsoleFixture.SignInAsync(page, ConsoleFixture.Admin.Key);
        await Expect(page.GetByTestId("signed-in-user")).ToContainTextAsync(ConsoleFixture.Admin.Name);

        foreach (var path in new[] { "/", "/deliveries/new", "/addresses", $"/deliveries/{id}", $"/deliveries/{id}/logs", $"/deliveries/{id}/logs/{tag}-3", $"/deliveries/{id}/exclusions", "/no-such-page" })
        {
            await page.GotoAsync(path);
            var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
            var (scroll, client) = (widths[0], widths[1]);
            Assert.True(scroll <= client, $"{path} is {scroll} px wide in a {client} px window.");
            var axe = await page.RunAxe();
            Assert.True(axe.Violations.Length == 0, $"{path}: " + string.Join("; ", axe.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html).Take(3))})")));
            await ConsoleFixture.ScreenshotAsync(page, "phone" + path.Replace('/', '-').Replace(tag, "x"));
        }

        // The header folded: the way to Addresses, the user and Sign out are on screen.
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console" }).GetByRole(AriaRole.Link, new() { Name = "Addresses" })).ToBeInViewportAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeInViewportAsync();

        // Created just now, shown in Kolkata's time (UTC+05:30); the UTC instant on hover.
        await page.GetByLabel("Name").FillAsync(tag);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.GetByTestId("delivery-count")).ToHaveTextAsync("1 delivery matches");
        var created = page.GetByTestId("deliveries").Locator("time").Last;
        var utc = DateTimeOffset.Parse(await created.GetAttributeAsync("datetime") ?? "", System.Globalization.CultureInfo.InvariantCulture);
        await Expect(created).ToHaveTextAsync(utc.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " GMT+5:30");
        await Expect(created).ToHaveAttributeAsync("title", utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC");

        await page.GotoAsync($"/deliveries/{id}/logs");
        await Expect(page.GetByTestId("log-count")).ToHaveTextAsync("120 logs · page 1 of 3");
        await Expect(page.GetByTestId("previous-page")).ToHaveCountAsync(0);
        await page.GetByTestId("next-page").ClickAsync();
        await Expect(page.GetByTestId("log-count")).ToHaveTextAsync("120 logs · page 2 of 3");
        await Expect(page.GetByTestId("logs").Locator("tbody tr")).ToHaveCountAsync(50);
        await page.GetByTestId("previous-page").ClickAsync();
        await Expect(page.GetByTestId("log-count")).ToHaveTextAsync("120 logs · page 1 of 3");

        // A search that matches 11 logs spread over every partition finds them all on one page.
        await page.GetByLabel("Profile id or address").FillAsync($"{tag}-11");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.GetByTestId("log-count")).ToHaveTextAsync("11 logs match · page 1 of 1");
        await Expect(page.GetByTestId("logs").Locator("tbody tr")).ToHaveCountAsync(11);
        await Expect(page.GetByTestId("export-logs")).ToHaveAttributeAsync("href", $"/api/deliveries/{id}/export/logs?q={tag}-11");
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R1")]
    public async Task Refusals_are_told_in_place_keeping_the_form_and_an_administrator_releases_ticked_addresses()
    {
        var tag = Guid.NewGuid().ToString("N");
        var addresses = new[] { $"a.{tag}@example.com", $"b.{tag}@example.com", $"c.{tag}@example.com" };
        foreach (var address in addresses)
        {
            await Shard(address).OptOutAsync(address, DateTimeOffset.UtcNow);
        }

        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GotoAsync($"/addresses?q={tag}");
        await Expect(page.GetByTestId("address-count")).ToHaveTextAsync("3 addresses match");
        await page.GetByLabel($"Select {addresses[0]}").CheckAsync();
        await page.GetByLabel($"Select {addresses[2]}").CheckAsync();
        var release = page.GetByRole(AriaRole.Button, new() { Name = "Release selected" });

        // The silo cannot be reached: said in place, the ticks kept, nothing released.
        await page.RouteAsync("**/addresses?*handler=ReleaseMany*", route => route.AbortAsync());
        await release.ClickAsync();
        await Expect(page.GetByTestId("form-problem")).ToContainTextAsync("The silo cannot be reached");
        await page.UnrouteAsync("**/addresses?*handler=ReleaseMany*");

        // A stale form (its antiforgery cookie gone): refused in place, made fresh, the ticks kept.
        await context.ClearCookiesAsync(new() { Name = "DeliveryGrains.Console.Antiforgery" });
        await release.ClickAsync();
        await Expect(page.GetByTestId("form-problem")).ToContainTextAsync("The form had expired");
        await Expect(page.GetByLabel($"Select {addresses[0]}")).ToBeCheckedAsync();
        Assert.Equal(AddressStatus.OnDenylist, (await Shard(addresses[0]).GetAsync(addresses[0])).Status);

        await release.ClickAsync();
        await Expect(page.GetByTestId("released-many")).ToContainTextAsync("Released 2 addresses");
        await Expect(page.GetByTestId("address-count")).ToHaveTextAsync("1 address matches");
        Assert.Equal(AddressStatus.Valid, (await Shard(addresses[2]).GetAsync(addresses[2])).Status);

        // A page that is not there, and a refusal of role, read as console pages rather than JSON.
        var missing = await page.GotoAsync("/no-such-page");
        Assert.Equal(404, missing!.Status);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        var (marketerContext, marketer) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var __ = marketerContext;
        await marketer.GotoAsync($"/addresses?q={tag}");
        var token = await marketer.Locator("input[name=__console_token]").First.GetAttributeAsync("value") ?? "";
        var form = marketerContext.APIRequest.CreateFormData();
        form.Set("__console_token", token);
        form.Set("selected", addresses[1]);
        var refused = await marketerContext.APIRequest.PostAsync($"/addresses?handler=ReleaseMany", new() { Form = form, MaxRedirects = 0, Headers = new Dictionary<string, string> { ["Accept"] = "text/html" } });
        Assert.Equal(403, refused.Status);
        Assert.Contains("<h1 data-problem-title>Missing role</h1>", await refused.TextAsync(), StringComparison.Ordinal);
        Assert.Equal(AddressStatus.OnDenylist, (await Shard(addresses[1]).GetAsync(addresses[1])).Status);
    }

    private IAddressBookGrain Shard(string address) => fixture.Grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address));

    /// <summary>A prepared delivery of <paramref name="count"/> recipients <c>{tag}-0…</c>, over several partitions of 16.</summary>
    private async Task<string> PreparedAsync(string name, string tag, int count)
    {
        var id = Guid.NewGuid().ToString("N");
        var delivery = fixture.Grains.GetGrain<IDeliveryGrain>(id);
        var recipients = Enumerable.Range(0, count).Select(i => new Recipient($"{tag}-{i}", $"r{i}.{tag}@example.com")).ToList();
        await delivery.CreateAsync(new DeliveryDefinition(name, Channel.Email, false, TimeSpan.FromDays(1), TimeSpan.FromHours(1), 3,
            SendAt: null, RequestConfirmation: true, recipients, GeneratedTarget: null, new MtaSettings(MtaKind.External)), Operator);
        await delivery.PrepareAsync(Operator);
        return id;
    }
}
