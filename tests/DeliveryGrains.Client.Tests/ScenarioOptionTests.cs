using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

/// <summary>R12.5: <c>--scenario FILE</c> of submit and load, the shipped scenarios, and a bad file refused in one line.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ScenarioOptionTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-scenario-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The repository's <c>scenarios/</c> folder, found from the test's output folder.</summary>
    private static string Shipped(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DeliveryGrains.sln")))
            {
                return Path.Combine(dir.FullName, "scenarios", name);
            }
        }

        throw new InvalidOperationException("The repository root (DeliveryGrains.sln) is not above the test's folder.");
    }

    private string Write(string name, string json)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    [InlineData("consumer-mix.json", 5)]
    [InlineData("b2b-mix.json", 20)]
    public async Task Submit_with_a_shipped_scenario_puts_the_generated_recipients_on_its_domains(string file, int domains)
    {
        var result = await _cli.RunAsync("submit", "--name", "Scenario", "--generate", "200", "--seed", Cli.UniqueSeed().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--scenario", Shipped(file), "--prepare");

        Assert.True(result.ExitCode == 0, result.ToString());
        var view = await _cli.Grains.GetGrain<IDeliveryGrain>(result.DeliveryId).GetDomainsAsync();
        Assert.Equal(domains, view.Count);
        Assert.Equal(200, view.Sum(d => d.ToDeliver));
        Assert.All(view, d => Assert.EndsWith(".test", d.Domain));
    }

    [Theory]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    [InlineData("{ \"domains\": [ { \"domain\": \"a.test\", \"share\": 0.5 } ] }", "--scenario domains: The domains' shares add up to 0.5")]
    [InlineData("{ \"domains\": [ { \"domain\": \"a.test\", \"share\": 1, \"acceptPerMinute\": 0 } ] }", "--scenario domains[0].acceptPerMinute: Accept 1 to 10,000,000")]
    [InlineData("{ \"domains\": [ { \"domain\": \"a.test\", \"share\": \"all\" } ] }", "a value of the wrong kind at 'domains[0].share'")]
    [InlineData("{ \"domains\": [ { \"domain\": \"a.test\", \"shares\": 1 } ] }", "a field a scenario does not have")]
    [InlineData("{ \"domains\": [ ", "text that is not valid JSON")]
    [InlineData("{ }", "--scenario domains: List the scenario's domains")]
    public async Task Submit_refuses_a_bad_scenario_file_in_one_line_with_exit_code_2(string json, string expected)
    {
        var path = Write("bad.json", json);

        var result = await _cli.RunAsync("submit", "--name", "Bad scenario", "--generate", "10", "--scenario", path);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains(expected, line);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public async Task Load_refuses_a_missing_scenario_file_and_a_scenario_on_the_SMTP_road()
    {
        var missing = await _cli.RunAsync("load", "--recipients", "10", "--scenario", Path.Combine(_folder, "missing.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", Assert.Single(missing.Lines));

        var smtp = await _cli.RunAsync("load", "--recipients", "10", "--mta", "Smtp", "--scenario", Shipped("consumer-mix.json"));
        Assert.Equal(2, smtp.ExitCode);
        Assert.Contains("--scenario: A scenario drives the simulated MTA", Assert.Single(smtp.Lines));
    }
}
