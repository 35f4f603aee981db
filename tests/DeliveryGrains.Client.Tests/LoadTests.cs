using System.Globalization;
using System.Text.Json;
using DeliveryGrains.Client.Load;

namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LoadTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-load-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Seed() => Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);

    [Fact]
    [Trait("Rule", "R8.8")]
    [Trait("Rule", "R8.7")]
    public async Task Load_with_a_small_count_settles_checks_the_stats_and_reports_throughput_and_peak_memory()
    {
        var report = Path.Combine(_folder, "load.json");
        using var silo = new FakeSiloMetrics(MetricsTextTests.Before, MetricsTextTests.After);

        var result = await _cli.RunAsync(
            "load", "--recipients", "300", "--seed", Seed(),
            "--retry-period", "00:00:00.5", "--metrics", silo.Url, "--report", report);

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

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.8")]
    public async Task Load_with_floor_measures_the_activation_floor_first_and_reports_settle_time_over_it()
    {
        var (output, floor) = await RunWithFloorAsync("--floor", "3000");

        Assert.Contains("Activation floor: 3,000 grains in", output);
        Assert.Contains("activation floor in the run's silo (engine and dashboard running)", output);
        Assert.Equal(FloorKind.RunSilo, floor.Kind);
        Assert.Equal(3000, floor.Grains);
        Assert.True(floor.Seconds > 0);
        // The floor is scaled as a TimeSpan, so it is exact to a tick (100 ns), not to the last digit of a double.
        Assert.Equal(floor.Seconds * 200 / 3000, floor.ScaledSeconds, tolerance: 1e-6);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.8")]
    public async Task Load_with_stock_floor_holds_the_settle_time_against_the_given_stock_floor_and_says_which_floor_it_is()
    {
        var (output, floor) = await RunWithFloorAsync("--stock-floor", "20");

        Assert.DoesNotContain("Measuring the activation floor", output);
        Assert.Contains("stock activation floor (a bare silo)", output);
        Assert.Equal(FloorKind.Stock, floor.Kind);
        Assert.Equal(1_000_000, floor.Grains);
        Assert.Equal(20, floor.Seconds, tolerance: 1e-9);
        Assert.Equal(20.0 * 200 / 1_000_000, floor.ScaledSeconds, tolerance: 1e-6);
    }

    /// <summary>A 200-recipient run held against a floor: its output and the floor its report holds, checked to divide the settle time.</summary>
    private async Task<(string Output, FloorFigures Floor)> RunWithFloorAsync(params string[] floorOption)
    {
        var report = Path.Combine(_folder, "floor.json");
        using var silo = new FakeSiloMetrics(MetricsTextTests.Before, MetricsTextTests.After);

        var result = await _cli.RunAsync(
            ["load", "--recipients", "200", "--seed", Seed(), .. floorOption,
             "--retry-period", "00:00:00.5", "--metrics", silo.Url, "--report", report]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Settle / floor", result.Output);
        var written = LoadReport.FromJson(await File.ReadAllTextAsync(report));
        var floor = Assert.IsType<FloorFigures>(written?.Floor);
        Assert.Equal(written!.SettleSeconds / floor.ScaledSeconds, floor.SettleOverFloor!.Value, tolerance: 1e-9 * floor.SettleOverFloor.Value);
        return (result.Output, floor);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.5")]
    public async Task Load_reports_the_silo_resident_set_KPI_lag_view_reads_and_storage_mode_in_the_summary_and_the_JSON()
    {
        var report = Path.Combine(_folder, "metrics.json");
        using var silo = new FakeSiloMetrics(MetricsTextTests.Before, MetricsTextTests.After);

        var result = await _cli.RunAsync(
            "load", "--recipients", "200", "--seed", Seed(), "--retry-period", "00:00:00.5", "--metrics", silo.Url, "--report", report);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Peak resident set", result.Output);
        Assert.Contains("333.8 MiB", result.Output);                       // the peak gauge, 350,000,000 bytes
        Assert.Contains("goal under 4.00 GiB: met", result.Output);
        Assert.Contains("KPI lag", result.Output);
        Assert.Contains("100 flushes: p50 0.525 s, p99 2.00 s", result.Output);
        Assert.Contains("99.0% ≤ 2.00 s, max ≤ 3.00 s", result.Output);
        Assert.Contains("View reads", result.Output);
        Assert.Contains("GetViewAsync calls while polling", result.Output);
        Assert.Contains("Storage mode", result.Output);
        Assert.Contains("deliverygrains_silo_info", result.Output);

        // Existing names stay; the new figures sit beside them.
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var root = json.RootElement;
        foreach (var name in new[] { "deliveryId", "recipients", "toDeliver", "prepareSeconds", "relaySeconds", "settleSeconds", "recipientsPerSecond",
                     "statsMatch", "peakMemoryBytes", "peakMemoryFigure", "memorySamples", "deliveries", "recipientsPerDelivery", "runs",
                     "viewReads", "siloMetrics", "peakResidentBytes", "storageMode", "storageModeSource" })
        {
            Assert.True(root.TryGetProperty(name, out _), $"No '{name}' in the report.");
        }

        Assert.Equal(1, root.GetProperty("deliveries").GetInt32());
        Assert.Equal(350_000_000, root.GetProperty("peakResidentBytes").GetInt64());
        Assert.Equal("Memory", root.GetProperty("storageMode").GetString());
        var metrics = root.GetProperty("siloMetrics");
        Assert.True(metrics.GetProperty("reachable").GetBoolean());
        Assert.Equal(silo.Url, metrics.GetProperty("endpoints")[0].GetString());
        Assert.Equal(300_000_000, metrics.GetProperty("peakWorkingSetBytes").GetInt64());
        Assert.Equal(350_000_000, metrics.GetProperty("peakWorkingSetGaugeBytes").GetInt64());
        var lag = metrics.GetProperty("kpiLag");
        Assert.Equal(100, lag.GetProperty("count").GetInt64());
        Assert.Equal(0.525, lag.GetProperty("p50Seconds").GetDouble(), precision: 9);
        Assert.Equal(2.0, lag.GetProperty("p99Seconds").GetDouble(), precision: 9);
        Assert.Equal(0.99, lag.GetProperty("shareWithinBound").GetDouble(), precision: 9);
        Assert.Equal(2.0, lag.GetProperty("boundSeconds").GetDouble());
        Assert.Equal(3.0, lag.GetProperty("maxBucketBoundSeconds").GetDouble());
        Assert.Equal(13, lag.GetProperty("buckets").GetArrayLength());
        var reads = root.GetProperty("viewReads");
        Assert.True(reads.GetProperty("count").GetInt32() > 0);
        Assert.True(reads.GetProperty("medianMs").GetDouble() > 0);
        Assert.True(reads.GetProperty("p95Ms").GetDouble() >= reads.GetProperty("medianMs").GetDouble());
        var run = Assert.Single(root.GetProperty("runs").EnumerateArray());
        Assert.Equal(root.GetProperty("deliveryId").GetString(), run.GetProperty("deliveryId").GetString());
        Assert.True(run.GetProperty("statsMatch").GetBoolean());
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.8")]
    public async Task Several_deliveries_run_at_once_on_their_own_targets_with_times_per_run_and_in_all()
    {
        var report = Path.Combine(_folder, "three.json");
        var seed = Cli.UniqueSeed();
        Cli.UniqueSeed();
        Cli.UniqueSeed();

        var result = await _cli.RunAsync(
            "load", "--deliveries", "3", "--recipients", "150", "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--retry-period", "00:00:00.5", "--metrics", FakeSiloMetrics.Unreachable(), "--report", report);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("recipients/s in all", result.Output);
        Assert.Contains("Delivery 3", result.Output);
        var written = LoadReport.FromJson(await File.ReadAllTextAsync(report));
        Assert.NotNull(written);
        Assert.Equal(3, written.Deliveries);
        Assert.Equal(150, written.RecipientsPerDelivery);
        Assert.Equal(450, written.Recipients);
        Assert.Equal(450, written.ToDeliver);
        Assert.Equal(0, written.Excluded);   // distinct targets: no run meets another's quarantine
        Assert.Equal(3, written.Runs.Count);
        Assert.Equal(3, written.Runs.Select(r => r.DeliveryId).Distinct().Count());
        Assert.Equal([seed, seed + 1, seed + 2], written.Runs.Select(r => r.Seed));
        Assert.All(written.Runs, r =>
        {
            Assert.Equal(150, r.ToDeliver);
            Assert.True(r.StatsMatch, string.Join("; ", r.StatsDifferences));
            Assert.True(r.SettleSeconds <= written.SettleSeconds + 1e-9);
            Assert.True(r.RecipientsPerSecond > 0);
        });
        Assert.Equal(written.Runs[0].DeliveryId, written.DeliveryId);
        Assert.Equal(450, written.RecountedKpis.Sent);
        Assert.Equal(written.Runs.Sum(r => r.RecountedKpis.Delivered), written.RecountedKpis.Delivered);
        Assert.True(written.StatsMatch);
        Assert.True(written.ViewReads.Count >= 3);
    }

    [Fact]
    [Trait("Area", "Client")]
    public async Task An_unreachable_metrics_endpoint_is_named_in_the_summary_and_the_managed_memory_is_kept()
    {
        var report = Path.Combine(_folder, "unreachable.json");
        var url = FakeSiloMetrics.Unreachable();

        var result = await _cli.RunAsync(
            "load", "--recipients", "100", "--seed", Seed(), "--retry-period", "00:00:00.5", "--metrics", url, "--report", report);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("unreachable", result.Output);
        Assert.Contains("no scrape of /metrics answered", result.Output);
        Assert.Contains("the silo's DeliveryGrains:Storage decides", result.Output);
        var written = LoadReport.FromJson(await File.ReadAllTextAsync(report));
        Assert.NotNull(written);
        Assert.False(written.SiloMetrics.Reachable);
        Assert.Contains(url, written.SiloMetrics.Error);
        Assert.Null(written.PeakResidentBytes);
        Assert.Null(written.SiloMetrics.KpiLag);
        Assert.Null(written.StorageMode);
        Assert.True(written.PeakMemoryBytes > 0, written.MemorySamplingError);
    }

    [Fact]
    [Trait("Area", "Client")]
    public async Task On_a_terminal_the_progress_shows_sent_pending_awaiting_retry_and_elapsed_live()
    {
        using var silo = new FakeSiloMetrics(MetricsTextTests.Before, MetricsTextTests.After);

        var result = await _cli.RunAsAsync(Cli.Operator, interactive: true,
            "load", "--recipients", "100", "--seed", Seed(), "--retry-period", "00:00:00.5", "--metrics", silo.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Sent / to deliver", result.Output);
        Assert.Contains("Pending", result.Output);
        Assert.Contains("Awaiting retry", result.Output);
        Assert.Contains("Elapsed", result.Output);
        Assert.Contains("silo resident", result.Output);
    }
}
