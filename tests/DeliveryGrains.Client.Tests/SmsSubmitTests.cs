using System.Globalization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

/// <summary><c>submit --channel Sms</c> (R11.2): a CSV of phone numbers, or a generated target of numbers.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SmsSubmitTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-client-sms-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R2.2")]
    [Trait("Rule", "R8.4")]
    public async Task Submit_Sms_from_a_csv_of_phone_numbers_runs_on_the_simulated_mta_without_opens_or_clicks()
    {
        var p = "sms" + Guid.NewGuid().ToString("N")[..8];
        var (first, second, third) = (Unique.Phone(), Unique.Phone(), Unique.Phone());
        var csv = Path.Combine(_folder, "numbers.csv");
        await File.WriteAllLinesAsync(csv,
        [
            "address,profileId,name",
            $"{first},{p}-1,Ann",
            $" {second} ,{p}-2,Bob",
            $"\"{third}\",\"{p}-3\",\"Cy, Jr.\"",
            $"0612345678,{p}-4,national",
            $"{first},{p}-5,same number",
            $",{p}-6,no number",
        ]);

        var result = await _cli.RunAsync(
            "submit", "--name", "SMS from CSV", "--channel", "Sms", "--target", csv,
            "--hard-bounce-rate", "0", "--soft-bounce-rate", "0", "--open-rate", "1", "--click-rate", "1", "--feedback-delay", "00:00:00",
            "--confirm", "--watch", "--until-settled", "--timeout", "00:00:20");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, result.Row("To deliver"));
        Assert.Equal(1, result.Row("Excluded: InvalidAddress"));
        Assert.Equal(1, result.Row("Excluded: Duplicate"));
        Assert.Equal(1, result.Row("Excluded: AddressEmpty"));
        Assert.Contains(result.Lines, l => l.Contains("│ Opens", StringComparison.Ordinal) && l.Contains("n/a", StringComparison.Ordinal));
        var id = result.DeliveryId;
        var view = await _cli.ViewAsync(id);
        Assert.Equal(Channel.Sms, view.Channel);
        Assert.Equal((3L, 3L), (view.Kpis.Sent, view.Kpis.Delivered));
        var stats = await _cli.Grains.GetGrain<IDeliveryGrain>(id).ComputeStatsAsync(Cli.Operator);
        Assert.Equal((0L, 0L), (stats.Opens, stats.Clicks));

        var logs = await _cli.RunAsync("logs", id);
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Contains(logs.Lines, l => l.Contains(second, StringComparison.Ordinal) && l.Contains("Sent", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R2.2")]
    public async Task Submit_Sms_with_a_generated_target_makes_valid_numbers()
    {
        var result = await _cli.RunAsync(
            "submit", "--name", "Generated SMS", "--channel", "Sms", "--generate", "25", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture), "--prepare");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(25, result.Row("To deliver"));
        Assert.Equal(0, result.Row("Excluded: InvalidAddress"));
    }
}
