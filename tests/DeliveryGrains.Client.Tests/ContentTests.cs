using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

/// <summary><c>preview ID</c> and <c>proof ID --to ADDRESS</c> (R14.4, R14.5).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ContentTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);

    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-content-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Rule", "R14.1")]
    public async Task Submit_takes_the_content_and_a_broken_template_is_one_line_naming_the_option_line_and_column()
    {
        var html = Path.Combine(_folder, "offer.html");
        await File.WriteAllTextAsync(html, "<p>Hello</p>\n<p>\n{% if vip %}VIP");
        var good = Path.Combine(_folder, "good.html");
        await File.WriteAllTextAsync(good, "<p>Dear {{ address }}, <a href=\"https://shop.test/\">shop</a></p>");

        var broken = await _cli.RunAsync("submit", "--name", "Broken", "--generate", "2", "--subject", "Hi {{ firstName", "--html", html);
        var missing = await _cli.RunAsync("submit", "--name", "Missing", "--generate", "2", "--text", Path.Combine(_folder, "nope.txt"));
        var created = await _cli.RunAsync("submit", "--name", "Good", "--generate", "2", "--subject", "Hi {{ firstName | default: 'you' }}", "--html", good, "--from-name", "The shop");

        Assert.Equal(2, broken.ExitCode);
        Assert.Single(broken.Lines);
        Assert.Contains("--subject: line 1, column ", broken.Output);
        Assert.Contains("--html: line 3, column ", broken.Output);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--text: ", missing.Output);
        Assert.True(created.ExitCode == 0, created.ToString());
        var preview = await _cli.RunAsync("preview", created.DeliveryId);
        Assert.Contains("Subject:  Hi you", preview.Output);
        Assert.Contains("From:     The shop", preview.Output);
        Assert.Contains("shop (https://shop.test/)", preview.Output);
    }

    private async Task<string> CreateAsync(Channel channel, MessageContent content)
    {
        var id = Guid.NewGuid().ToString("N");
        var address = channel == Channel.Sms ? Unique.Phone() : Unique.Email("ann");
        var definition = new DeliveryDefinition("Content", channel, false, TimeSpan.FromDays(1), TimeSpan.FromHours(1), 1, null, true,
            [new Recipient("ann", address, new Dictionary<string, string> { ["firstName"] = "Ann" }), new Recipient("bo", channel == Channel.Sms ? Unique.Phone() : Unique.Email("bo"))],
            null, new MtaSettings(MtaKind.Simulated, Content: content));
        await _cli.Grains.GetGrain<IDeliveryGrain>(id).CreateAsync(definition, Cli.Operator);
        return id;
    }

    [Fact]
    [Trait("Rule", "R14.4")]
    public async Task Preview_shows_the_first_recipient_or_the_one_asked_for()
    {
        var id = await CreateAsync(Channel.Email, new MessageContent("Hi {{ firstName | default: 'you' }}", null, "<p>Dear {{ firstName|friend }}</p>", FromName: "The shop"));

        var first = await _cli.RunAsync("preview", id);
        var bo = await _cli.RunAsync("preview", id, "--profile", "bo", "--html");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("Subject:  Hi Ann", first.Output);
        Assert.Contains("From:     The shop", first.Output);
        Assert.Contains("Dear Ann", first.Output);
        Assert.DoesNotContain("<p>", first.Output);
        Assert.Contains("Subject:  Hi you", bo.Output);
        Assert.Contains("<p>Dear friend</p>", bo.Output);
    }

    [Fact]
    [Trait("Rule", "R14.5")]
    public async Task Preview_of_an_sms_gives_its_length()
    {
        var id = await CreateAsync(Channel.Sms, new MessageContent(null, "Hi {{ firstName }} 😀", null));

        var result = await _cli.RunAsync("preview", id);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Length:   9 characters, 1 segment (UCS-2)", result.Output);
    }

    [Fact]
    [Trait("Rule", "R14.4")]
    public async Task A_proof_is_sent_and_listed_and_a_bad_one_is_one_line_and_exit_code_2()
    {
        var id = await CreateAsync(Channel.Email, new MessageContent("Hi", "Text", null));

        var sent = await _cli.RunAsync("proof", id, "--to", Unique.Email("proof"), "--to", Unique.Email("proof"));
        var bad = await _cli.RunAsync("proof", id, "--to", "nope");
        var none = await _cli.RunAsync("proof", id);
        var stranger = await _cli.RunAsync("preview", id, "--profile", "stranger");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Contains("Proof 1 sent to 2 of 2 addresses.", sent.Output);
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Lines);
        Assert.Contains("'nope' is not an email address", bad.Output);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("--to", none.Output);
        Assert.Equal(2, stranger.ExitCode);
        Assert.Contains("'stranger' is not a recipient", stranger.Output);
        Assert.Single((await _cli.Grains.GetGrain<IDeliveryGrain>(id).GetViewAsync()).Proofs!);
    }
}
