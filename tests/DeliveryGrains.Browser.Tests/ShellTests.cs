using System.Text.Json;
using DeliveryGrains.Addresses;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>The console's shell: sign-in and sign-out, roles shown and enforced, forms protected.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ShellTests(ConsoleFixture fixture)
{
    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task An_operator_signs_in_with_their_key_sees_who_they_are_and_signs_out()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var _ = context;

        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl=%2F$"));
        await ConsoleFixture.ScreenshotAsync(page, "signin");

        await page.GetByLabel("API key").FillAsync(ConsoleFixture.Marketer.Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Uri(fixture.BaseAddress, "/").ToString());
        var user = page.GetByTestId("signed-in-user");
        await Expect(user).ToContainTextAsync("marketer");
        await Expect(user).ToContainTextAsync("PrepareDeliveries");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console" }).GetByRole(AriaRole.Link, new() { Name = "Addresses" })).ToBeVisibleAsync();
        await ConsoleFixture.ScreenshotAsync(page, "deliveries-signed-in");

        // The key is exchanged for an HttpOnly, SameSite=Strict cookie and kept nowhere in the page.
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "DeliveryGrains.Console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(ConsoleFixture.Marketer.Key, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        Assert.Equal("", await page.EvaluateAsync<string>("() => document.cookie"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Uri(fixture.BaseAddress, "/signin").ToString());
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "DeliveryGrains.Console");
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task An_anonymous_visitor_opening_the_dashboard_signs_in_through_the_console_and_lands_on_it()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var _ = context;

        // A browser asking for the page is sent to sign-in (never a 401 in JSON); the same request from a script is a 401.
        var opened = await page.GotoAsync("/dashboard");
        Assert.Equal(200, opened!.Status);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl=%2Fdashboard$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        var script = await context.APIRequest.GetAsync("/dashboard", new() { Headers = new Dictionary<string, string> { ["Accept"] = "application/json" }, MaxRedirects = 0 });
        Assert.Equal(401, script.Status);

        await page.GetByLabel("API key").FillAsync(ConsoleFixture.Monitor.Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("^" + fixture.BaseAddress.ToString().TrimEnd('/') + "/dashboard/?$"));
        var dashboard = await context.APIRequest.GetAsync("/dashboard");
        Assert.Equal(200, dashboard.Status);
        Assert.Contains("text/html", dashboard.Headers["content-type"], StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task An_unknown_key_is_refused_with_a_message_and_signs_no_one_in()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var _ = context;

        await ConsoleFixture.SignInAsync(page, "not-a-key-of-this-silo");

        await Expect(page.GetByTestId("signin-error")).ToHaveTextAsync("No user of this silo has that key. Check it, or ask an administrator for yours.");
        await Expect(page.GetByTestId("signed-in-user")).ToHaveCountAsync(0);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "DeliveryGrains.Console");
        await ConsoleFixture.ScreenshotAsync(page, "signin-refused");
    }

    [Fact]
    [Trait("Rule", "R1")]
    [Trait("Rule", "R9.6")]
    public async Task A_forged_release_without_Administration_is_403_naming_the_role_and_changes_nothing()
    {
        var address = await DenylistedAddressAsync();
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        // The page offers no Release to a user without Administration…
        await page.GotoAsync($"/addresses?address={Uri.EscapeDataString(address)}");
        await Expect(page.GetByTestId("address-status")).ToHaveTextAsync("OnDenylist");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Release", Exact = true })).ToHaveCountAsync(0);

        // …and a POST made anyway, with a valid antiforgery token of this session, is refused by the server.
        var response = await PostReleaseAsync(context, address, await TokenAsync(page));

        Assert.Equal(403, response.Status);
        var problem = JsonDocument.Parse(await response.TextAsync()).RootElement;
        Assert.Equal("Administration", problem.GetProperty("missingRole").GetString());
        Assert.Contains("'Administration'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(AddressStatus.OnDenylist, (await RecordAsync(address)).Status);
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task A_form_with_a_stale_or_missing_antiforgery_token_is_400_and_changes_nothing()
    {
        var address = await DenylistedAddressAsync();
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;
        await page.GotoAsync($"/addresses?address={Uri.EscapeDataString(address)}");
        var current = await TokenAsync(page);

        // The browser's antiforgery cookie is gone (expired, cleared) and a new one was issued since:
        // the token of the form shown before no longer matches.
        await context.ClearCookiesAsync(new() { Name = "DeliveryGrains.Console.Antiforgery" });
        await page.ReloadAsync();
        Assert.NotEqual(current, await TokenAsync(page));

        foreach (var token in new[] { current, "", "forged-token" })
        {
            var response = await PostReleaseAsync(context, address, token);
            Assert.Equal(400, response.Status);
            var problem = JsonDocument.Parse(await response.TextAsync()).RootElement;
            Assert.Contains("Reload the page", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(AddressStatus.OnDenylist, (await RecordAsync(address)).Status);
    }

    /// <summary>The antiforgery token of the page's forms (every form of a session carries the same one).</summary>
    private static Task<string> TokenAsync(IPage page) =>
        page.Locator("input[name=__console_token]").First.GetAttributeAsync("value")!;

    private static Task<IAPIResponse> PostReleaseAsync(IBrowserContext context, string address, string token)
    {
        var form = context.APIRequest.CreateFormData();
        form.Set("address", address);
        if (token.Length > 0)
        {
            form.Set("__console_token", token);
        }

        return context.APIRequest.PostAsync("/addresses?handler=Release", new() { Form = form, MaxRedirects = 0 });
    }

    /// <summary>A new address put on the denylist (R9.5), so a release would change it.</summary>
    private async Task<string> DenylistedAddressAsync()
    {
        var address = $"{Guid.NewGuid():N}@example.com";
        await fixture.Grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address)).OptOutAsync(address, DateTimeOffset.UtcNow);
        return address;
    }

    private Task<AddressRecord> RecordAsync(string address) =>
        fixture.Grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address)).GetAsync(address);
}
