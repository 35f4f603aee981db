using DeliveryGrains.Client.Commands;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

/// <summary><c>load --mta Smtp --smtp HOST:PORT</c>: the options of an SMTP load run, refused with one line and exit code 2 when wrong.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LoadSmtpOptionTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    [Theory]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12.1")]
    [InlineData("--mta: A load run needs an MTA that answers by itself: Simulated or Smtp.", "load", "--mta", "External")]
    [InlineData("--smtp: --smtp names the sink of an SMTP run: give --mta Smtp with it.", "load", "--smtp", "127.0.0.1:2525")]
    [InlineData("--smtp: 'nowhere' is not HOST:PORT such as 127.0.0.1:2525.", "load", "--mta", "Smtp", "--smtp", "nowhere")]
    [InlineData("--message-bytes: --message-bytes sizes the messages of an SMTP run: give --mta Smtp with it.", "load", "--message-bytes", "20000")]
    [InlineData("--message-bytes: Give a size from 1 to 1,000,000 bytes, e.g. --message-bytes 20000.", "load", "--mta", "Smtp", "--message-bytes", "0")]
    [InlineData("--content: --content chooses the messages of an SMTP run: give --mta Smtp with it.", "load", "--content", "Template")]
    [InlineData("--untracked: Only HTML can be tracked: give --content Html or Template with --untracked.", "load", "--mta", "Smtp", "--untracked")]
    public async Task Wrong_smtp_load_options_are_refused_with_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, Assert.Single(result.Lines));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R14.1")]
    public void Html_and_template_runs_send_the_same_html_one_of_them_personalised()
    {
        var html = new LoadSettings { MtaKind = MtaKind.Smtp, Content = LoadContent.Html, Untracked = true }.Definition().Mta.Content!;
        var template = new LoadSettings { MtaKind = MtaKind.Smtp, Content = LoadContent.Template }.Definition().Mta.Content!;

        Assert.Equal((null, false, true), (html.Text, html.Tracked, template.Tracked));
        Assert.DoesNotContain("{{", html.Html, StringComparison.Ordinal);
        Assert.Contains("{{ field9 | default: \"friend\" }}", template.Html, StringComparison.Ordinal);
        Assert.Contains("?p={{ profileId }}", template.Html, StringComparison.Ordinal);
        Assert.InRange(html.Html!.Length, LoadSettings.DefaultHtmlBytes, LoadSettings.DefaultHtmlBytes + 300);
        Assert.InRange(template.Html!.Length, LoadSettings.DefaultHtmlBytes, LoadSettings.DefaultHtmlBytes + 300);
    }
}
