using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>R13.2, R13.3 as a recipient meets them: the captured message opened in Chromium, its pixel loaded, a link clicked; then the console.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TrackingPageTests(ConsoleFixture fixture)
{
    [Fact]
    [Trait("Rule", "R13.2")]
    [Trait("Rule", "R13.3")]
    public async Task A_recipient_s_browser_loads_the_pixel_and_follows_a_link_and_the_console_shows_the_open_and_the_click()
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        var address = $"reader.{tag}@example.com";
        var target = new Uri(fixture.BaseAddress, $"/signin?from=mail-{tag}").ToString();
        var admin = ApiClients.Create(fixture.BaseAddress, ConsoleFixture.Admin.Key);
        var body = new JsonObject
        {
            ["name"] = $"Tracked {tag}",
            ["channel"] = "Email",
            ["recipients"] = new JsonArray(new JsonObject { ["profileId"] = "reader", ["address"] = address }),
            ["mta"] = new JsonObject { ["kind"] = "Smtp" },
            ["content"] = new JsonObject { ["subject"] = "News", ["html"] = $"<p>Hello</p><p><a id=\"go\" href=\"{WebUtility.HtmlEncode(target)}\">Read more</a></p>" },
        };
        var id = await admin.StartAsync(body);
        await admin.UntilAsync(id, v => v.Kpi("sent") == 1);
        var (message, _) = await fixture.Smtp.MessageToAsync(address);

        // The recipient's mail client: the HTML part as it came, images loaded, a link followed.
        var (context, page) = await fixture.NewPageAsync();
        await using (context)
        {
            var pixel = page.WaitForResponseAsync(r => r.Url.Contains("/t/o/", StringComparison.Ordinal));
            await page.SetContentAsync(message.HtmlBody!);
            Assert.Equal(200, (await pixel).Status);
            await page.Locator("#go").ClickAsync();
            await page.WaitForURLAsync(target);
        }

        var (console, consolePage) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using (console)
        {
            await consolePage.GotoAsync($"/deliveries/{id}");
            var link = consolePage.GetByTestId("links").Locator("tr[data-link='0']");
            await Expect(link.Locator("td.url")).ToHaveTextAsync(target);
            await Expect(link.Locator("td.num").Nth(0)).ToHaveTextAsync("1");
            await Expect(link.Locator("td.num").Nth(1)).ToHaveTextAsync("1");

            // Opens and clicks are published on the tracking refresh period (R8.5); Compute stats publishes them now.
            await consolePage.GetByRole(AriaRole.Button, new() { Name = "Compute stats" }).ClickAsync();
            var recount = consolePage.GetByTestId("recount");
            await Expect(recount.Locator("tr", new() { HasText = "Opens" }).First.Locator("td.num").Nth(1)).ToHaveTextAsync("1");
            await Expect(recount.Locator("tr", new() { HasText = "Clicks" }).First.Locator("td.num").Nth(1)).ToHaveTextAsync("1");
            await Expect(consolePage.Locator("[data-live=opens]")).ToHaveTextAsync("1");
            await Expect(consolePage.Locator("[data-live=clicks]")).ToHaveTextAsync("1");
            await ConsoleFixture.ScreenshotAsync(consolePage, "delivery-tracked");
        }
    }
}
