using System.Text.RegularExpressions;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

/// <summary>The Client's watch shows a delivery per destination domain (R12.3) beside its Deployment block.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DomainWatchTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-client-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12.3")]
    public async Task Watch_shows_each_domain_of_a_delivery_to_several_domains()
    {
        var p = "dom" + Guid.NewGuid().ToString("N")[..8];
        var csv = Path.Combine(_folder, "target.csv");
        await File.WriteAllLinesAsync(csv,
        [
            "profileId,address",
            $"{p}-1,ann.{p}@alpha.test",
            $"{p}-2,bob.{p}@alpha.test",
            $"{p}-3,cy.{p}@beta.test",
        ]);
        var id = (await _cli.RunAsync("submit", "--name", "Two domains", "--target", csv, "--feedback-delay", "00:00:00", "--hard-bounce-rate", "0",
            "--soft-bounce-rate", "0", "--prepare", "--confirm")).DeliveryId;

        var result = await _cli.RunAsync("watch", id, "--until-settled", "--timeout", "00:00:30");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Domains", result.Output);
        Assert.Equal(2, result.Row("alpha.test"));
        Assert.Equal(1, result.Row("beta.test"));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12.3")]
    [Trait("Rule", "R8")]
    public async Task Show_and_watch_give_a_capped_delivery_its_rate_time_left_and_deferrals_as_the_console_does()
    {
        // One message a minute: of four, three wait behind the cap for minutes, so the delivery is in progress with
        // deferrals when it is shown, by construction.
        var scenario = Path.Combine(_folder, "capped.json");
        await File.WriteAllTextAsync(scenario, """{ "domains": [ { "domain": "capped.test", "share": 1, "acceptPerMinute": 1, "hardBounceRate": 0, "softBounceRate": 0 } ] }""");
        var id = (await _cli.RunAsync("submit", "--name", "Capped", "--generate", "4", "--seed", Cli.UniqueSeed().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--scenario", scenario, "--feedback-delay", "00:00:00", "--prepare", "--confirm")).DeliveryId;
        var grain = _cli.Grains.GetGrain<IDeliveryGrain>(id);
        await DeliveryGrains.TestKit.Waiting.Eventually.Until(() => grain.GetDomainsAsync(), d => d.Sum(x => x.Deferrals) > 0, "a deferral on capped.test", TimeSpan.FromSeconds(20));

        // A rate needs a second of history (before it, it is "—", as on the console).
        await DeliveryGrains.TestKit.Waiting.Eventually.Until(() => grain.GetTimelineAsync(),
            t => t.Points.Count > 0 && DateTimeOffset.UtcNow - t.Points[0].At >= TimeSpan.FromSeconds(1.5), "a timeline point 1.5 s old", TimeSpan.FromSeconds(20));

        var shown = await _cli.RunAsync("show", id);

        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("InProgress", shown.Output);
        Assert.True(shown.Row("Deferred") > 0, shown.ToString());
        Assert.Matches(new Regex(@"Rate[^\n\d]*\d[\d,.]*/s"), shown.Output);
        Assert.Matches(new Regex(@"Time left[^\n\w—]*(estimating…|—|\d+ (h|min|s))"), shown.Output);

        // The watch's lines (not a terminal) carry the same three figures; it ends at its timeout, the delivery still capped.
        var watched = await _cli.RunAsync("watch", id, "--timeout", "00:00:01");
        Assert.Matches(new Regex(@"\| rate \d[\d,.]*/s \| time left (estimating…|—|\d+ (h|min|s)[^|]*) \| deferred [1-9]"), watched.Output);
    }
}
