using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace DeliveryGrains.Client.Tests;

/// <summary>Output for scripts (--json, --csv, pipes) and what a watch says it waits for.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OutputTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task Submit_and_show_answer_one_json_document_with_what_happens_next()
    {
        var submitted = await _cli.RunAsync("submit", "--name", "Scripted", "--generate", "4", "--seed", Seed(), "--mta", "External", "--prepare", "--json");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        using var created = JsonDocument.Parse(submitted.Output);
        var id = created.RootElement.GetProperty("id").GetString()!;
        Assert.Equal(4, created.RootElement.GetProperty("preparation").GetProperty("toDeliver").GetInt64());
        Assert.Equal("Ready", created.RootElement.GetProperty("snapshot").GetProperty("delivery").GetProperty("status").GetString());

        var shown = await _cli.RunAsync("show", id, "--json");

        Assert.True(shown.ExitCode == 0, shown.ToString());
        using var view = JsonDocument.Parse(shown.Output);
        Assert.Equal(id, view.RootElement.GetProperty("delivery").GetProperty("id").GetString());
        Assert.Equal("3.12:00:00", view.RootElement.GetProperty("delivery").GetProperty("validityPeriod").GetString());
        Assert.StartsWith("Prepared and waiting for its confirmation: 'delivery confirm", view.RootElement.GetProperty("next").GetString());
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R4")]
    public async Task Lists_come_as_csv_and_json_with_every_row()
    {
        var seed = Seed();
        var id = (await _cli.RunAsync("submit", "--name", "Rows", "--generate", "12", "--seed", seed, "--mta", "External", "--prepare")).DeliveryId;

        var csv = await _cli.RunAsync("logs", id, "--csv", "--all", "--limit", "5");
        Assert.True(csv.ExitCode == 0, csv.ToString());
        Assert.Equal("Profile,Address,Status,Failure,Reason,Attempts,Relayed,Last event,Opened,Clicked", csv.Lines[0]);
        Assert.Equal(12, csv.Lines.Count(l => l.StartsWith($"g{seed}-", StringComparison.Ordinal)));
        Assert.All(csv.Lines.Skip(1), l => Assert.EndsWith(",false,false", l));

        var json = await _cli.RunAsync("logs", id, "--json", "--limit", "5");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var page = JsonDocument.Parse(json.Output);
        Assert.Equal(5, page.RootElement.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.String, page.RootElement.GetProperty("next").ValueKind);

        var exclusions = await _cli.RunAsync("exclusions", id, "--json");
        Assert.True(exclusions.ExitCode == 0, exclusions.ToString());
        Assert.Equal(0, JsonDocument.Parse(exclusions.Output).RootElement.GetArrayLength());

        var both = await _cli.RunAsync("logs", id, "--json", "--csv");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("Give one of --json and --csv.", Assert.Single(both.Lines));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.7")]
    public async Task Stats_as_json_carries_the_verdict()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Stats json", "--generate", "5", "--seed", Seed(), "--mta", "External", "--prepare")).DeliveryId;

        var result = await _cli.RunAsync("stats", id, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var stats = JsonDocument.Parse(result.Output);
        Assert.Equal("The recount equals the running KPIs: nothing to repair.", stats.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(5, stats.RootElement.GetProperty("recounted").GetProperty("toDeliver").GetInt64());
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.8")]
    public async Task A_watch_line_says_what_the_delivery_waits_for()
    {
        var result = await _cli.RunAsync("submit", "--name", "Watched", "--generate", "20", "--seed", Seed(),
            "--hard-bounce-rate", "0", "--soft-bounce-rate", "0", "--feedback-delay", "00:00:00",
            "--confirm", "--watch", "--until-settled", "--timeout", "00:00:30");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Lines, l => l.Contains(" — Settled: every message has its outcome; the delivery is Finished when the validity period ends at ", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task Piped_output_is_never_cut_at_80_columns()
    {
        var client = Path.Combine(AppContext.BaseDirectory, "DeliveryGrains.Client.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { client, "submit", "--help" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("--country", StringComparison.Ordinal));
        Assert.True(line.Length > 80, line);
        Assert.Contains("(e.g. 33: 06 12 34 56 78 is +33612345678). Default: Client:DefaultCountryCode, else none", line);
    }

    private static string Seed() => Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);
}
