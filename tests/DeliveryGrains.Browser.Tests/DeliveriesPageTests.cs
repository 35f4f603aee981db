using DeliveryGrains.Deliveries;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>The deliveries page: newest first, filters, search, 50 a page, recurring templates with their runs.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DeliveriesPageTests(ConsoleFixture fixture)
{
    private static readonly Caller Operator = new("admin", Roles.All.ToHashSet());

    [Fact]
    [Trait("Rule", "R8.1")]
    public async Task Deliveries_are_listed_newest_first_with_their_figures_and_filtered_by_status_channel_and_name()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var older = await CreateAsync($"{tag} email older", Channel.Email);
        var sms = await CreateAsync($"{tag} sms", Channel.Sms);
        var ready = await CreateAsync($"{tag} email ready", Channel.Email);
        await fixture.Grains.GetGrain<IDeliveryGrain>(ready).PrepareAsync(Operator);

        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GetByLabel("Name").FillAsync(tag);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();

        var rows = page.GetByTestId("deliveries").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        Assert.Equal([ready, sms, older], await RowIdsAsync(page));
        var readyRow = page.Locator($"tr[data-delivery='{ready}']");
        await Expect(readyRow.Locator("td").Nth(2)).ToHaveTextAsync("Ready");
        await Expect(readyRow.Locator("td").Nth(4)).ToHaveTextAsync("0 / 4");
        await Expect(readyRow.GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", $"/deliveries/{ready}");
        await ConsoleFixture.ScreenshotAsync(page, "deliveries");

        // A filter applies as soon as it is chosen, and keeps the search.
        await page.GetByLabel("Channel").SelectOptionAsync("Sms");
        await Expect(rows).ToHaveCountAsync(1);
        Assert.Equal([sms], await RowIdsAsync(page));

        await page.GetByLabel("Channel").SelectOptionAsync("");
        await page.GetByLabel("Status").SelectOptionAsync("Ready");
        await Expect(rows).ToHaveCountAsync(1);
        Assert.Equal([ready], await RowIdsAsync(page));

        await page.GetByLabel("Status").SelectOptionAsync("Failed");
        await Expect(page.GetByTestId("no-deliveries")).ToHaveTextAsync("No delivery matches these filters.");
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public async Task The_list_shows_50_a_page_and_pages_on_with_its_filters()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var ids = new List<string>();
        for (var i = 0; i < 51; i++)
        {
            ids.Add(await CreateAsync($"{tag} page {i:00}", Channel.Email));
        }

        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync($"/?q={tag}");

        var rows = page.GetByTestId("deliveries").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(50);
        Assert.Equal(ids.AsEnumerable().Reverse().Take(50), await RowIdsAsync(page));

        await page.GetByTestId("next-page").ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        Assert.Equal([ids[0]], await RowIdsAsync(page));
        await Expect(page.GetByTestId("next-page")).ToHaveCountAsync(0);
        await Expect(page.GetByLabel("Name")).ToHaveValueAsync(tag);
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task A_recurring_template_shows_its_executions_and_links_its_runs()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var template = Guid.NewGuid().ToString("N");
        var definition = Definition($"{tag} weekly", Channel.Email) with
        {
            Recurrence = new Recurrence(TimeSpan.FromDays(7), 3, null),
        };
        var delivery = fixture.Grains.GetGrain<IDeliveryGrain>(template);
        await delivery.CreateAsync(definition, Operator);
        await delivery.PrepareAsync(Operator);
        await delivery.ConfirmSendAsync(Operator);

        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        // The first run starts at confirmation, by the template's timer: wait for it (bounded), then read the page.
        await page.WaitForFunctionAsync(
            "async id => (await (await fetch(`/api/deliveries/${id}/executions`)).json()).length > 0",
            template,
            new() { PollingInterval = 100, Timeout = 15_000 });
        var executions = await delivery.ListExecutionsAsync();
        var run = executions.Single().Runs.Single();

        await page.GotoAsync($"/?q={tag}");
        var row = page.Locator($"tr[data-delivery='{template}']");
        await Expect(row).ToContainTextAsync("recurring: 3 × every 7 d");
        await row.GetByTestId("runs").Locator("summary").ClickAsync();
        await Expect(row.GetByTestId("runs").Locator("summary")).ToHaveTextAsync("1 execution · 1 run");
        await Expect(row.GetByTestId("runs").Locator($"a[href='/deliveries/{run}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"tr[data-delivery='{run}'] .tag")).ToHaveTextAsync("run");
        await ConsoleFixture.ScreenshotAsync(page, "deliveries-recurring");
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public async Task A_bad_filter_value_is_told_beside_its_field()
    {
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Supervisor);
        await using var _ = context;

        var response = await page.GotoAsync("/?status=Sending");

        Assert.Equal(400, response!.Status);
        await Expect(page.Locator(".filters .field-error")).ToContainTextAsync("'Sending' is not a delivery status");
    }

    private async Task<string> CreateAsync(string name, Channel channel)
    {
        var id = Guid.NewGuid().ToString("N");
        await fixture.Grains.GetGrain<IDeliveryGrain>(id).CreateAsync(Definition(name, channel), Operator);
        return id;
    }

    private static DeliveryDefinition Definition(string name, Channel channel) => new(
        Name: name,
        Channel: channel,
        EmailFeedbackService: false,
        ValidityPeriod: TimeSpan.FromHours(1),
        RetryPeriod: TimeSpan.FromMinutes(5),
        MaxRetries: 1,
        SendAt: null,
        RequestConfirmation: true,
        Recipients: null,
        GeneratedTarget: new GeneratedTarget(4, 1, "example.test"),
        Mta: new MtaSettings(MtaKind.Simulated),
        Recurrence: null);

    private static async Task<List<string>> RowIdsAsync(IPage page) =>
        [.. (await page.GetByTestId("deliveries").Locator("tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.delivery)"))];
}
