using System.Globalization;
using System.Text.RegularExpressions;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed partial class ReadTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R4")]
    public async Task Logs_are_read_a_page_at_a_time_by_following_the_cursor()
    {
        var seed = Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);
        var id = (await _cli.RunAsync("submit", "--name", "Paged", "--generate", "30", "--seed", seed, "--prepare")).DeliveryId;

        var first = await _cli.RunAsync("logs", id, "--limit", "10");
        Assert.True(first.ExitCode == 0, first.ToString());
        var cursor = NextCursor().Match(first.Output).Groups[1].Value;
        Assert.NotEqual("", cursor);
        var second = await _cli.RunAsync("logs", id, "--limit", "10", "--after", cursor);
        Assert.True(second.ExitCode == 0, second.ToString());

        var firstProfiles = Profiles(first, seed);
        var secondProfiles = Profiles(second, seed);
        Assert.Equal(10, firstProfiles.Count);
        Assert.Equal(10, secondProfiles.Count);
        Assert.Empty(firstProfiles.Intersect(secondProfiles));

        var all = await _cli.RunAsync("logs", id, "--limit", "7", "--all", "--status", "ToDeliver");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains("30 logs in all.", all.Output);
        Assert.Equal(30, Profiles(all, seed).Distinct().Count());
        Assert.Contains("that is the last page.", all.Lines[^2]);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R4")]
    public async Task A_cursor_that_is_not_one_is_refused_with_what_to_pass()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Cursor", "--generate", "3", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture), "--prepare")).DeliveryId;

        var result = await _cli.RunAsync("logs", id, "--after", "banana");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("pass the 'next' value of the previous page", Assert.Single(result.Lines));
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Stats_recounts_every_kpi_and_it_equals_the_running_kpis()
    {
        var id = (await _cli.RunAsync(
            "submit", "--name", "Counted", "--generate", "120", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture),
            "--feedback-delay", "00:00:00", "--validity", "00:00:02", "--retry-period", "00:00:00.5",
            "--prepare", "--confirm", "--watch", "--timeout", "00:00:30")).DeliveryId;
        var running = (await _cli.ViewAsync(id)).Kpis;

        var result = await _cli.RunAsync("stats", id);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("The recount equals the running KPIs: nothing to repair.", result.Output);
        var recounted = (await _cli.ViewAsync(id)).Kpis;
        Assert.Equal(running with { ComputedAt = default }, recounted with { ComputedAt = default });
        Assert.Equal(recounted.Delivered, result.Row("│ Delivered "));
    }

    [Fact]
    [Trait("Rule", "R10.1")]
    public async Task History_lists_the_deliveries_sent_to_a_profile()
    {
        var seed = Cli.UniqueSeed();
        var first = (await _cli.RunAsync("submit", "--name", "First", "--generate", "3", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--prepare")).DeliveryId;
        var second = (await _cli.RunAsync("submit", "--name", "Second", "--generate", "3", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--prepare")).DeliveryId;

        var result = await _cli.RunAsync("history", $"g{seed}-1");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Lines, l => l.Contains(first, StringComparison.Ordinal) && l.Contains("ToDeliver", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains(second, StringComparison.Ordinal) && l.Contains("Second", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Rule", "R9.1")]
    public async Task Address_normalizes_then_finds_the_shard_that_quarantined_a_hard_bounce()
    {
        var seed = Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);
        var submitted = await _cli.RunAsync(
            "submit", "--name", "Bounced", "--generate", "2", "--seed", seed, "--domain", "bounce.test",
            "--hard-bounce-rate", "1", "--soft-bounce-rate", "0", "--feedback-delay", "00:00:00", "--confirm");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());

        // The quarantine learns of the bounce on the partition's next flush: wait for it, with a bound.
        var result = await Eventually.Until(
            () => _cli.RunAsync("address", $"user0.s{seed}@BOUNCE.Test"),
            r => r.Output.Contains("Quarantine", StringComparison.Ordinal),
            "the hard bounce reaching the quarantine", TimeSpan.FromSeconds(15), Cli.PollInterval);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"user0.s{seed}@bounce.test", result.Output);
        Assert.Contains(result.Lines, l => l.Contains("Excluded at preparation", StringComparison.Ordinal) && l.Contains("yes", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task History_needs_a_reading_role()
    {
        var nobody = new Caller("nobody", new HashSet<string> { Roles.StartDeliveries });

        var result = await _cli.RunAsAsync(nobody, "history", "p-1");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("Administration", Assert.Single(result.Lines));
    }

    private static List<string> Profiles(CliResult result, string seed) =>
        Regex.Matches(result.Output, $@"\bg{seed}-\d+\b").Select(m => m.Value).Distinct().ToList();

    [GeneratedRegex(@"--after (\S+)'")]
    private static partial Regex NextCursor();
}
