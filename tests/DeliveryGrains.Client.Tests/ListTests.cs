using System.Globalization;
using System.Text.RegularExpressions;

namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed partial class ListTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8")]
    public async Task List_shows_deliveries_newest_first_filtered_and_paged()
    {
        var tag = Unique.Id();
        var older = (await _cli.RunAsync("submit", "--name", $"Listed {tag} older", "--generate", "3", "--seed", Seed())).DeliveryId;
        var newer = (await _cli.RunAsync("submit", "--name", $"Listed {tag} newer", "--generate", "3", "--seed", Seed(), "--prepare")).DeliveryId;

        var first = await _cli.RunAsync("list", "--search", tag, "--limit", "1");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains(newer, first.Output);
        Assert.DoesNotContain(older, first.Output);
        var cursor = Next().Match(first.Output).Groups[1].Value;
        Assert.NotEqual("(end)", cursor);

        var second = await _cli.RunAsync("list", "--search", tag, "--limit", "1", "--after", cursor);
        Assert.Contains(older, second.Output);
        Assert.Contains("next: (end)", second.Output);

        var ready = await _cli.RunAsync("list", "--search", tag, "--status", "Ready");
        Assert.Contains(newer, ready.Output);
        Assert.DoesNotContain(older, ready.Output);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8")]
    public async Task A_bad_cursor_or_limit_is_refused_with_exit_code_2()
    {
        var cursor = await _cli.RunAsync("list", "--after", "banana");
        var limit = await _cli.RunAsync("list", "--limit", "0");

        Assert.Equal(2, cursor.ExitCode);
        Assert.Contains("pass the 'next' value of the previous page", Assert.Single(cursor.Lines));
        Assert.Equal(2, limit.ExitCode);
    }

    private static string Seed() => Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"next: (\S+)")]
    private static partial Regex Next();
}
