using System.Globalization;
using DeliveryGrains.Client.Load;

namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LoadTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-load-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Rule", "R8.8")]
    [Trait("Rule", "R8.7")]
    public async Task Load_with_a_small_count_settles_checks_the_stats_and_reports_throughput_and_peak_memory()
    {
        var report = Path.Combine(_folder, "load.json");

        var result = await _cli.RunAsync(
            "load", "--recipients", "300", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture),
            "--retry-period", "00:00:00.5", "--report", report);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("recipients/s", result.Output);
        Assert.Contains("Peak memory", result.Output);
        Assert.Contains("RawMemoryUsageBytes", result.Output);
        Assert.Contains("Compute stats equals the running KPIs", result.Output);

        var written = LoadReport.FromJson(await File.ReadAllTextAsync(report));
        Assert.NotNull(written);
        Assert.Equal(300, written.Recipients);
        Assert.Equal(300, written.ToDeliver);
        Assert.True(written.StatsMatch, string.Join("; ", written.StatsDifferences));
        Assert.True(written.Settled);
        Assert.Equal(300, written.RecountedKpis.Sent);
        Assert.True(written.RecipientsPerSecond > 0);
        Assert.True(written.PrepareSeconds > 0);
        Assert.NotNull(written.RelaySeconds);
        Assert.True(written.SettleSeconds >= written.RelaySeconds);
        Assert.True(written.MemorySamples > 0, written.MemorySamplingError);
        Assert.True(written.PeakMemoryBytes > 0);
        Assert.Contains("RawMemoryUsageBytes", written.PeakMemoryFigure);
    }
}
