using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed class SubmitTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-client-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Rule", "R2.1")]
    public async Task Submit_from_a_csv_file_then_prepare_shows_the_exclusions_by_reason()
    {
        var p = "csv" + Guid.NewGuid().ToString("N")[..8];
        var csv = Path.Combine(_folder, "target.csv");
        await File.WriteAllLinesAsync(csv,
        [
            "profileId,address",
            $"{p}-1,ann.{p}@example.test",
            $"{p}-2,",
            $"{p}-3,not-an-address",
            $"{p}-4,ann.{p}@EXAMPLE.test",
            $"\"{p}-5\",\"bob.{p}@example.test\"",
        ]);

        var submitted = await _cli.RunAsync("submit", "--name", "From CSV", "--target", csv);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = submitted.DeliveryId;
        Assert.Equal(DeliveryStatus.Draft, (await _cli.ViewAsync(id)).Status);

        var prepared = await _cli.RunAsync("prepare", id);
        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        Assert.Equal(2, prepared.Row("To deliver"));
        Assert.Equal(1, prepared.Row("Excluded: AddressEmpty"));
        Assert.Equal(1, prepared.Row("Excluded: InvalidAddress"));
        Assert.Equal(1, prepared.Row("Excluded: Duplicate"));
        Assert.Equal(0, prepared.Row("Excluded: QuarantinedAddress"));
        Assert.Equal(DeliveryStatus.Ready, (await _cli.ViewAsync(id)).Status);

        var exclusions = await _cli.RunAsync("exclusions", id);
        Assert.True(exclusions.ExitCode == 0, exclusions.ToString());
        Assert.Contains("3 excluded: AddressEmpty 1, InvalidAddress 1, Duplicate 1.", exclusions.Output);
        Assert.Contains($"{p}-4", exclusions.Output);
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    public async Task Submit_from_a_json_file_with_prepare_chains_the_preparation()
    {
        var p = "json" + Guid.NewGuid().ToString("N")[..8];
        var json = Path.Combine(_folder, "target.json");
        await File.WriteAllTextAsync(json,
            $$"""[ { "profileId": "{{p}}-1", "address": "+15550001" }, { "profileId": "{{p}}-2", "address": "+1555000" }, { "profileId": "{{p}}-3", "address": "+155500099" } ]""");

        var result = await _cli.RunAsync("submit", "--name", "From JSON", "--channel", "Sms", "--target", json, "--prepare");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, result.Row("To deliver"));
        Assert.Equal(1, result.Row("Excluded: InvalidAddress"));
        var view = await _cli.ViewAsync(result.DeliveryId);
        Assert.Equal((Channel.Sms, DeliveryStatus.Ready), (view.Channel, view.Status));
    }

    [Fact]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R8")]
    public async Task Submit_generate_prepare_confirm_watch_follows_the_delivery_to_its_end_on_the_simulated_mta()
    {
        var result = await _cli.RunAsync(
            "submit", "--name", "Watched", "--generate", "200", "--seed", Cli.UniqueSeed().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--feedback-delay", "00:00:00", "--validity", "00:00:03", "--retry-period", "00:00:01",
            "--prepare", "--confirm", "--watch", "--timeout", "00:00:40");

        Assert.True(result.ExitCode == 0, result.ToString());
        var view = await _cli.ViewAsync(result.DeliveryId);
        Assert.Equal(DeliveryStatus.Finished, view.Status);

        // R7.3: the KPIs are final: nothing pending, no retry left, every message sent has its outcome.
        var k = view.Kpis;
        Assert.Equal(200, k.ToDeliver);
        Assert.Equal(200, k.Sent);
        Assert.Equal(0, k.Pending);
        Assert.Equal(0, k.AwaitingRetry);
        Assert.Equal(k.Sent, k.Delivered + k.BouncesAndErrors);
        Assert.True(k.BouncesAndErrors > 0, "the simulated MTA hard-bounces 2% by default");

        // One line per change while it sends (still relaying, or all relayed and waiting for outcomes:
        // 200 messages can be relayed before the first look), then the final Deployment block.
        Assert.Contains(result.Lines, l => l.Contains("InProgress |", StringComparison.Ordinal) || l.Contains("Sent |", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("Confirmed: delivery ", StringComparison.Ordinal));
        Assert.Equal(k.Delivered, result.Row("│ Delivered"));
        Assert.Equal(k.BouncesAndErrors, result.Row("│ Bounces + errors"));
        Assert.Contains(result.Lines, l => l.Contains("│ Status", StringComparison.Ordinal) && l.Contains("Finished", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2.1")]
    public async Task Submit_with_a_target_file_that_does_not_exist_is_one_line_and_exit_code_2()
    {
        var result = await _cli.RunAsync("submit", "--name", "Nothing", "--target", Path.Combine(_folder, "missing.csv"));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains("does not exist", line);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2.1")]
    public async Task Submit_lists_every_bad_entry_of_the_target_file()
    {
        var csv = Path.Combine(_folder, "bad.csv");
        await File.WriteAllLinesAsync(csv, ["profileId,address", "a,a@example.test", ",b@example.test", "a,c@example.test", "x/y,d@example.test"]);

        var result = await _cli.RunAsync("submit", "--name", "Bad", "--target", csv);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
        [
            "bad.csv: 3 problems; fix them and run the command again.",
            "bad.csv:3: no profile id; every recipient needs one.",
            "bad.csv:4: profile 'a' is already on line 2; a profile gets one message, so keep one of the two.",
            "bad.csv:5: profile id 'x/y' contains '/', which a profile id cannot hold.",
        ], result.Lines);
    }
}
