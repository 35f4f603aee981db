namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed class OptionTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    [Theory]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8")]
    [InlineData("--recipients: Generate 1 to 10,000,000 recipients.", "load", "--recipients", "0")]
    [InlineData("--recipients: Generate 1 to 10,000,000 recipients.", "load", "--recipients", "10000001")]
    [InlineData("--deliveries: Run 1 to 100 deliveries at once.", "load", "--deliveries", "0")]
    [InlineData("--deliveries: 'abc' is not a whole number; use 1 to 100 deliveries.", "load", "--deliveries", "abc")]
    [InlineData("--deliveries: Run 1 to 100 deliveries at once.", "load", "--deliveries", "101")]
    [InlineData("--deliveries: --deliveries × --recipients is 12,000,000; a run generates at most 10,000,000 recipients.", "load", "--deliveries", "2", "--recipients", "6000000")]
    [InlineData("--seed: --seed + --deliveries − 1 must not exceed 2147483647.", "load", "--deliveries", "2", "--seed", "2147483647")]
    [InlineData("--metrics: 'localhost:8080/metrics' is not an http:// or https:// URL", "load", "--metrics", "localhost:8080/metrics")]
    [InlineData("--metrics: 'ftp://127.0.0.1/metrics' is not an http:// or https:// URL", "load", "--metrics", "ftp://127.0.0.1/metrics")]
    [InlineData("--metrics: 'not a url' is not an http:// or https:// URL", "load", "--metrics", "http://127.0.0.1:8080/metrics", "--metrics", "not a url")]
    [InlineData("--floor: Measure the floor over 1 to 20,000,000 grains, e.g. --floor 100000", "load", "--floor", "0")]
    [InlineData("--stock-floor: Give the seconds per 1,000,000 grains that 'DeliveryGrains.Silo floor' printed, above 0 and at most 3600", "load", "--stock-floor", "0")]
    [InlineData("--stock-floor: Hold the run against one floor: give --floor (measured in the run's silo) or --stock-floor, not both.", "load", "--floor", "1000", "--stock-floor", "21.9")]
    [InlineData("--hard-bounce-rate: Rates are fractions from 0 to 1.", "load", "--hard-bounce-rate", "1.5")]
    [InlineData("--soft-bounce-rate: hardBounceRate + softBounceRate cannot exceed 1.", "load", "--hard-bounce-rate", "0.6", "--soft-bounce-rate", "0.5")]
    [InlineData("--open-rate: Rates are fractions from 0 to 1.", "submit", "--name", "x", "--generate", "5", "--open-rate", "-0.1")]
    [InlineData("Give exactly one of --target FILE or --generate COUNT.", "submit", "--name", "x")]
    [InlineData("add --confirm", "submit", "--name", "x", "--generate", "5", "--watch")]
    [InlineData("--name: Give the delivery a name.", "submit", "--generate", "5")]
    [InlineData("--validity: The validity period must be longer than zero", "submit", "--name", "x", "--generate", "5", "--validity", "-00:00:01")]
    [InlineData("--limit must be 1 to 1000.", "logs", "some-id", "--limit", "0")]
    [InlineData("Unknown command 'frobnicate'.", "frobnicate")]
    public async Task Nonsense_options_are_refused_with_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains(expected, line);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8")]
    public async Task Every_bad_option_is_listed_in_the_one_line()
    {
        var result = await _cli.RunAsync("load", "--recipients", "-5", "--click-rate", "2", "--retry-period", "00:00:00", "--feedback-delay", "2.00:00:00");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains("--recipients", line);
        Assert.Contains("--click-rate", line);
        Assert.Contains("--retry-period", line);
        Assert.Contains("--feedback-delay", line);
    }
}
