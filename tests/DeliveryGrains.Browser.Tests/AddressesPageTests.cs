using DeliveryGrains.Addresses;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>The Addresses page: an address's quarantine record and its release (Administration only).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AddressesPageTests(ConsoleFixture fixture)
{
    [Fact]
    [Trait("Rule", "R9.6")]
    public async Task An_administrator_looks_up_a_denylisted_address_and_releases_it()
    {
        // Written with a capital in the domain: the page looks the address up as the address book keys it (R2.2).
        var local = Guid.NewGuid().ToString("N");
        var address = $"{local}@Example.com";
        var normalized = $"{local}@example.com";
        var book = fixture.Grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(normalized));
        await book.OptOutAsync(normalized, DateTimeOffset.UtcNow);

        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;
        await page.GetByRole(AriaRole.Link, new() { Name = "Addresses" }).ClickAsync();
        await page.GetByLabel("Address", new() { Exact = true }).FillAsync(address);
        await page.GetByRole(AriaRole.Button, new() { Name = "Look up" }).ClickAsync();

        await Expect(page.GetByTestId("address-status")).ToHaveTextAsync("OnDenylist");
        await Expect(page.GetByTestId("address-record")).ToContainTextAsync("Denylisted");
        await ConsoleFixture.ScreenshotAsync(page, "addresses");

        string? asked = null;
        page.Dialog += async (_, dialog) =>
        {
            asked = dialog.Message;
            await dialog.AcceptAsync();
        };
        await page.GetByRole(AriaRole.Button, new() { Name = "Release", Exact = true }).ClickAsync();

        await Expect(page.GetByTestId("released")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("address-status")).ToHaveTextAsync("Valid");
        Assert.Contains(normalized, asked, StringComparison.Ordinal);
        Assert.Equal(AddressStatus.Valid, (await book.GetAsync(normalized)).Status);
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    public async Task Release_is_offered_to_administrators_only()
    {
        var address = $"{Guid.NewGuid():N}@example.com";
        await fixture.Grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address)).OptOutAsync(address, DateTimeOffset.UtcNow);

        // PrepareDeliveries reads the record but is offered no Release.
        var (marketerContext, marketer) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using (marketerContext)
        {
            await marketer.GotoAsync($"/addresses?address={Uri.EscapeDataString(address)}");
            await Expect(marketer.GetByTestId("address-status")).ToHaveTextAsync("OnDenylist");
            await Expect(marketer.GetByRole(AriaRole.Button, new() { Name = "Release", Exact = true })).ToHaveCountAsync(0);
        }

        // StartDeliveries alone may not even look addresses up: no link, and the page is a 403 page naming the roles.
        var (supervisorContext, supervisor) = await fixture.SignedInAsync(ConsoleFixture.Supervisor);
        await using (supervisorContext)
        {
            await Expect(supervisor.GetByRole(AriaRole.Link, new() { Name = "Addresses" })).ToHaveCountAsync(0);
            var response = await supervisor.GotoAsync($"/addresses?address={Uri.EscapeDataString(address)}");
            Assert.Equal(403, response!.Status);
            // A console page, not JSON: the refusal's title and the roles it needs.
            await Expect(supervisor.GetByRole(AriaRole.Heading, new() { Name = "Missing role" })).ToBeVisibleAsync();
            await Expect(supervisor.Locator("[data-problem-detail]")).ToContainTextAsync("'Administration' or 'PrepareDeliveries'");
        }
    }

    [Fact]
    [Trait("Rule", "R9")]
    public async Task An_address_that_is_not_one_is_told_beside_the_field()
    {
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        var response = await page.GotoAsync("/addresses?address=not-an-address");

        Assert.Equal(400, response!.Status);
        await Expect(page.Locator(".field-error")).ToHaveTextAsync("'not-an-address' is not an email address.");
        await Expect(page.GetByTestId("address-record")).ToHaveCountAsync(0);
    }
}
