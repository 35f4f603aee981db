using System.Text;
using System.Text.RegularExpressions;
using DeliveryGrains.Deliveries;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryGrains.Browser.Tests;

/// <summary>R14 in the console: the content fields, template errors beside them, the live SMS length, the sandboxed preview and the proof dialog.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ContentPageTests(ConsoleFixture fixture)
{
    private static readonly Regex DeliveryPage = new("/deliveries/(?<id>[0-9a-f]{32})$");

    private static readonly Caller MarketerCaller = new(ConsoleFixture.Marketer.Name, ConsoleFixture.Marketer.Roles.ToHashSet());

    private IDeliveryGrain Delivery(string id) => fixture.Grains.GetGrain<IDeliveryGrain>(id);

    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    private async Task<string> CreateAsync(MessageContent content, Channel channel = Channel.Email)
    {
        var id = Unique();
        var tag = Unique();
        IReadOnlyList<Recipient> recipients = channel == Channel.Sms
            ? [new("ann", "+1555" + Random.Shared.Next(1_000_000, 9_999_999)), new("bo", "+1556" + Random.Shared.Next(1_000_000, 9_999_999))]
            : [new("ann", $"ann.{tag}@example.com", new Dictionary<string, string> { ["firstName"] = "Ann" }), new("bo", $"bo.{tag}@example.com")];
        var definition = new DeliveryDefinition($"Content {tag}", channel, false, TimeSpan.FromDays(1), TimeSpan.FromHours(1), 3,
            SendAt: null, RequestConfirmation: true, recipients, GeneratedTarget: null, new MtaSettings(MtaKind.Simulated, Content: content));
        await Delivery(id).CreateAsync(definition, MarketerCaller);
        return id;
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public async Task The_new_delivery_form_tells_a_broken_template_beside_its_field_and_keeps_what_was_typed()
    {
        var name = $"Content {Guid.NewGuid():N}";
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync("/deliveries/new");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.SetInputFilesAsync("#targetFile", new FilePayload
        {
            Name = "t.csv",
            MimeType = "text/csv",
            Buffer = Encoding.UTF8.GetBytes("profileId,address\np-1,ann@example.test\n"),
        });
        await page.GetByLabel("Sender", new() { Exact = true }).FillAsync("The shop");
        await page.GetByLabel("Subject", new() { Exact = true }).FillAsync("Hi {{ firstName");
        await page.GetByLabel("HTML", new() { Exact = true }).FillAsync("<p>Hello</p>\n{% if vip %}<b>VIP</b>");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create delivery" }).ClickAsync();

        await Expect(page.Locator("[data-field='content.subject']")).ToContainTextAsync("line 1, column ");
        await Expect(page.Locator("[data-field='content.html']")).ToContainTextAsync("line 2, column ");
        await Expect(page.GetByLabel("Subject", new() { Exact = true })).ToHaveValueAsync("Hi {{ firstName");
        await Expect(page.GetByLabel("HTML", new() { Exact = true })).ToHaveValueAsync("<p>Hello</p>\n{% if vip %}<b>VIP</b>");
        await ConsoleFixture.ScreenshotAsync(page, "new-delivery-template-error");

        await page.SetInputFilesAsync("#targetFile", new FilePayload
        {
            Name = "t.csv",
            MimeType = "text/csv",
            Buffer = Encoding.UTF8.GetBytes("profileId,address\np-1,ann@example.test\n"),
        });
        await page.GetByLabel("Subject", new() { Exact = true }).FillAsync("Hi {{ firstName | default: 'there' }}");
        await page.GetByLabel("HTML", new() { Exact = true }).FillAsync("<p>Hello</p>{% if vip %}<b>VIP</b>{% endif %}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create delivery" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(DeliveryPage);
        await Expect(page.GetByTestId("preview-subject")).ToHaveTextAsync("Hi there");
        await Expect(page.GetByTestId("preview-from")).ToHaveTextAsync("The shop");
    }

    [Fact]
    [Trait("Rule", "R14.5")]
    public async Task The_sms_length_follows_the_text_as_it_is_typed()
    {
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync("/deliveries/new");
        var length = page.GetByTestId("sms-length");

        await Expect(length).ToBeHiddenAsync();
        await page.Locator("input[name=channel][value=Sms]").CheckAsync();
        await page.GetByLabel("Text", new() { Exact = true }).FillAsync(new string('a', 160));
        await Expect(length).ToHaveTextAsync("As an SMS: 160 characters, 1 segment (GSM-7).");
        await page.GetByLabel("Text", new() { Exact = true }).PressSequentiallyAsync("€");
        await Expect(length).ToHaveTextAsync("As an SMS: 162 characters, 2 segments (GSM-7).");
        await page.GetByLabel("Text", new() { Exact = true }).FillAsync("Hi 😀");
        await Expect(length).ToHaveTextAsync("As an SMS: 5 characters, 1 segment (UCS-2).");
    }

    [Fact]
    [Trait("Rule", "R14.4")]
    public async Task The_preview_is_a_sandboxed_frame_that_switches_between_recipients_and_runs_no_script()
    {
        var id = await CreateAsync(new MessageContent(
            "Hi {{ firstName | default: 'there' }}",
            null,
            "<p id=\"greeting\">Dear {{ firstName|friend }}</p><script>document.getElementById('greeting').textContent = 'script ran';</script>"));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{id}");

        var frame = page.GetByTestId("preview-frame");
        await Expect(frame).ToHaveAttributeAsync("sandbox", "");
        await Expect(page.GetByTestId("preview-subject")).ToHaveTextAsync("Hi Ann");
        await Expect(page.FrameLocator("[data-testid=preview-frame]").Locator("#greeting")).ToHaveTextAsync("Dear Ann");
        await ConsoleFixture.ScreenshotAsync(page, "delivery-preview");

        await page.GetByLabel("For the recipient").SelectOptionAsync("bo");

        await Expect(page).ToHaveURLAsync(new Regex("preview=bo"));
        await Expect(page.GetByTestId("preview-subject")).ToHaveTextAsync("Hi there");
        await Expect(page.FrameLocator("[data-testid=preview-frame]").Locator("#greeting")).ToHaveTextAsync("Dear friend");
    }

    [Fact]
    [Trait("Rule", "R14.4")]
    public async Task A_proof_is_sent_from_its_dialog_and_listed_and_a_bad_address_is_told_in_the_dialog()
    {
        var id = await CreateAsync(new MessageContent("Hi {{ firstName }}", "Text", null));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync($"/deliveries/{id}");

        await page.GetByTestId("send-proof").ClickAsync();
        await page.GetByTestId("proof-addresses").FillAsync("nope");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send proof", Exact = true }).ClickAsync();

        await Expect(page.GetByTestId("proof-error")).ToContainTextAsync("'nope' is not an email address");
        await Expect(page.GetByTestId("proof-addresses")).ToHaveValueAsync("nope");
        Assert.Null((await Delivery(id).GetViewAsync()).Proofs);

        await page.GetByTestId("proof-addresses").FillAsync("qa@example.com, boss@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send proof", Exact = true }).ClickAsync();

        await Expect(page.GetByTestId("done")).ToContainTextAsync("Proof 1 sent to qa@example.com, boss@example.com");
        await Expect(page.GetByTestId("proofs").Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("proofs")).ToContainTextAsync("marketer");
        await Expect(page.GetByTestId("kpi-sent")).ToHaveTextAsync("0");
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    [Trait("Rule", "R2.4")]
    public async Task Content_is_edited_on_the_delivery_page_until_the_send_is_confirmed()
    {
        var id = await CreateAsync(new MessageContent("First", "Text", null));
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;
        await page.GotoAsync($"/deliveries/{id}");

        await page.GetByLabel("Subject", new() { Exact = true }).FillAsync("Second {% if %}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save content" }).ClickAsync();

        await Expect(page.Locator("[data-field='content.subject']")).ToContainTextAsync("line 1, column ");
        await Expect(page.GetByLabel("Subject", new() { Exact = true })).ToHaveValueAsync("Second {% if %}");
        Assert.Equal("First", (await Delivery(id).GetViewAsync()).Mta.Content?.Subject);

        await page.GetByLabel("Subject", new() { Exact = true }).FillAsync("Second {{ firstName }}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save content" }).ClickAsync();

        await Expect(page.GetByTestId("done")).ToContainTextAsync("Content saved");
        await Expect(page.GetByTestId("preview-subject")).ToHaveTextAsync("Second Ann");

        var admin = new Caller("admin", new HashSet<string>(Roles.All));
        await Delivery(id).PrepareAsync(admin);
        await Delivery(id).ConfirmSendAsync(admin);
        await page.GotoAsync($"/deliveries/{id}");
        await Expect(page.GetByTestId("content-form")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("content")).ToContainTextAsync("no longer changes");
    }

    [Fact]
    [Trait("Rule", "R14.5")]
    public async Task An_sms_delivery_page_shows_the_length_of_its_preview()
    {
        var id = await CreateAsync(new MessageContent(null, "Hello " + new string('x', 160), null), Channel.Sms);
        var (context, page) = await fixture.SignedInAsync(ConsoleFixture.Marketer);
        await using var _ = context;

        await page.GotoAsync($"/deliveries/{id}");

        await Expect(page.GetByTestId("preview-sms-length")).ToContainTextAsync("166 characters, 2 segments (GSM-7)");
        await Expect(page.GetByTestId("sms-length")).ToHaveTextAsync("As an SMS: 166 characters, 2 segments (GSM-7).");
    }
}
