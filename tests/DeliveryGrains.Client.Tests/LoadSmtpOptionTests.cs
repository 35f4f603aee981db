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
    public async Task Wrong_smtp_load_options_are_refused_with_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, Assert.Single(result.Lines));
    }
}
