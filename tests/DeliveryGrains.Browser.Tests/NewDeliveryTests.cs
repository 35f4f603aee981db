using System.Text;
using System.Text.RegularExpressions;
using DeliveryGrains.Deliveries;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>The New delivery form: the API's rules beside their fields, a CSV's bad rows by line, the upload limit, roles.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class NewDeliveryTests(ConsoleFixture fixture)
{
    private static readonly Regex DeliveryPage = new("/deliveries/(?<id>[0-9a-f]{32})$");

    [Fact]
    [Trait("Rule", "R2.1")]
    public async Task A_CSV_with_bad_rows_is_refused_row_by_row_and_every_bad_field_is_told_beside_it()
    {
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GetByRole(AriaRole.Link, new() { Name = "New delivery" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New delivery" })).ToBeVisibleAsync();

        await page.GetByLabel("Max retries").FillAsync("99");
        await page.GetByLabel("Retry period").FillAsync("soon");
        await page.SetInputFilesAsync("#targetFile", Csv("rows.csv",
            "profileId,address",
            "p-1,ann@example.test",
            ",bob@example.test",
            "p-1,carl@example.test",
            "p-4,dan@example.test"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create delivery" }).ClickAsync();

        await Expect(page.GetByTestId("form-errors")).ToBeVisibleAsync();
        var target = page.GetByTestId("target-errors");
        await Expect(target).ToContainTextAsync("rows.csv:3: no profile id");
        await Expect(target).ToContainTextAsync("rows.csv:4: profile 'p-1' is already on line 2");
        await Expect(page.Locator(".field-error[data-field=name]")).ToHaveTextAsync("Give the delivery a name.");
        await Expect(page.Locator(".field-error[data-field=maxRetries]")).ToHaveTextAsync($"Use 0 to {DeliveryRules.MaxRetriesLimit} retries.");
        await Expect(page.Locator(".field-error[data-field=retryPeriod]")).ToContainTextAsync("'soon' is not a duration");
        // What was typed stays, to be corrected.
        await Expect(page.GetByLabel("Max retries")).ToHaveValueAsync("99");
        await ConsoleFixture.ScreenshotAsync(page, "new-delivery-errors");
    }

    [Fact]
    [Trait("Rule", "R2.2")]
    public async Task A_good_CSV_creates_the_delivery_and_opens_its_page()
    {
        var name = $"Spring {Guid.NewGuid():N}";
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync("/deliveries/new");

        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Max retries").FillAsync("3");
        await page.GetByLabel("Email Feedback Service").CheckAsync();
        await page.SetInputFilesAsync("#targetFile", Csv("customers.csv",
            "profileId,address,firstName",
            "p-1,ann@example.test,Ann",
            "p-2,\"bob@example.test\",Bob",
            "p-3,not-an-address,Carl"));
        await ConsoleFixture.ScreenshotAsync(page, "new-delivery");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create delivery" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(DeliveryPage);
        var id = DeliveryPage.Match(page.Url).Groups["id"].Value;
        var view = await fixture.Grains.GetGrain<IDeliveryGrain>(id).GetViewAsync();
        Assert.Equal(name, view.Name);
        Assert.Equal(DeliveryStatus.Draft, view.Status);
        Assert.Equal(3, view.TargetSize);
        Assert.Equal(3, view.MaxRetries);
        Assert.True(view.EmailFeedbackService);
        Assert.Equal("marketer", view.CreatedBy);
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task A_generated_recurring_delivery_is_created_with_its_schedule()
    {
        var name = $"Weekly {Guid.NewGuid():N}";
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Admin);
        await using var _ = context;
        await page.GotoAsync("/deliveries/new");

        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("SMS").CheckAsync();
        await page.GetByLabel("Generate recipients").CheckAsync();
        await page.GetByLabel("Recipients", new() { Exact = true }).FillAsync("250");
        await page.GetByLabel("Recurring delivery", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Every", new() { Exact = true }).FillAsync("7.00:00:00");
        await page.GetByLabel("Runs", new() { Exact = true }).FillAsync("4");
        await page.GetByLabel("Aggregation period").SelectOptionAsync("Month");
        await page.GetByLabel("Hard bounce rate").FillAsync("0.1");
        await page.GetByLabel("Contact date", new() { Exact = true }).FillAsync("2030-01-07T09:30");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create delivery" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(DeliveryPage);
        var view = await fixture.Grains.GetGrain<IDeliveryGrain>(DeliveryPage.Match(page.Url).Groups["id"].Value).GetViewAsync();
        Assert.Equal(Channel.Sms, view.Channel);
        Assert.Equal(250, view.TargetSize);
        Assert.Equal(new Recurrence(TimeSpan.FromDays(7), 4, AggregationPeriod.Month), view.Recurrence);
        Assert.Equal(0.1, view.Mta.HardBounceRate);
        Assert.Equal(new DateTimeOffset(2030, 1, 7, 9, 30, 0, TimeSpan.Zero), view.SendAt);
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    public async Task A_file_over_the_upload_limit_is_refused_with_the_limit()
    {
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync("/deliveries/new");

        await page.GetByLabel("Name").FillAsync("Too big");
        var lines = new List<string> { "profileId,address" };
        for (var i = 0; Encoding.UTF8.GetByteCount(string.Join('\n', lines)) <= ConsoleFixture.MaxUploadBytes; i++)
        {
            lines.Add($"p-{i},someone-{i}@example.test");
        }

        await page.SetInputFilesAsync("#targetFile", Csv("big.csv", [.. lines]));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create delivery" }).ClickAsync();

        await Expect(page.GetByTestId("target-errors")).ToContainTextAsync("larger than the 256 KiB this silo takes (Console:MaxUploadBytes)");
        await Expect(page.GetByLabel("Name")).ToHaveValueAsync("Too big");
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task Without_PrepareDeliveries_the_form_is_not_offered_and_a_forged_post_is_403_and_creates_nothing()
    {
        var name = $"Forged {Guid.NewGuid():N}";
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Supervisor);
        await using var _ = context;
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "New delivery" })).ToHaveCountAsync(0);

        var form = context.APIRequest.CreateFormData();
        form.Set("__console_token", (await page.Locator("input[name=__console_token]").First.GetAttributeAsync("value"))!);
        form.Set("name", name);
        form.Set("channel", "Email");
        form.Set("target", "generated");
        form.Set("generatedTarget.count", "10");
        var response = await context.APIRequest.PostAsync("/deliveries/new", new() { Multipart = form, MaxRedirects = 0 });

        Assert.Equal(403, response.Status);
        Assert.Contains("'PrepareDeliveries'", await response.TextAsync(), StringComparison.Ordinal);
        var listed = await fixture.Grains.GetGrain<IDeliveryListGrain>(0).ListAsync(new DeliveryListQuery(null, null, name, null, 10));
        Assert.Empty(listed.Items);
    }

    private static FilePayload Csv(string name, params string[] lines) => new()
    {
        Name = name,
        MimeType = "text/csv",
        Buffer = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"),
    };
}
