using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using DeliveryGrains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryGrains.Api.Tests;

/// <summary>The silo's own process gauges and KPI lag histogram, as a load tool reads them from <c>/metrics</c>.</summary>
[Collection(ApiCollection.Name)]
public sealed partial class MetricsExportTests(ApiHostFixture host)
{
    [Fact]
    [Trait("Area", "Metrics")]
    [Trait("Rule", "R8.5")]
    public async Task The_silo_exports_its_resident_set_its_storage_mode_and_the_KPI_lag_histogram_in_Prometheus_format()
    {
        // As a partition does after a flush (the exporter only writes a histogram that has a value).
        host.Services.GetRequiredService<DeliveryMetrics>().KpiLag(TimeSpan.FromMilliseconds(300));

        // The exporter caches a scrape briefly: read until the lag shows up, with a bound.
        var text = await Eventually.Until(
            () => host.Client(ApiHostFixture.MonitorKey).GetStringAsync("/metrics"),
            t => t.Contains("deliverygrains_kpi_lag_seconds_bucket", StringComparison.Ordinal),
            "the KPI lag histogram in /metrics", TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));

        Assert.True(Value(text, "deliverygrains_process_working_set_bytes") > 0, text);
        Assert.True(Value(text, "deliverygrains_process_peak_working_set_bytes") > 0, text);
        Assert.Matches(@"(?m)^deliverygrains_silo_info\{[^}]*storage=""Memory""[^}]*\} 1", text);
        Assert.Contains("# TYPE deliverygrains_kpi_lag_seconds histogram", text);
        Assert.True(Value(text, "deliverygrains_kpi_lag_seconds_bucket", "le=\"0.5\"") >= 1, text);
        Assert.True(Value(text, "deliverygrains_kpi_lag_seconds_bucket", "le=\"2\"") >= 1, text);
        Assert.True(Value(text, "deliverygrains_kpi_lag_seconds_count") >= 1, text);
        foreach (var bound in DeliveryMetrics.KpiLagBuckets)
        {
            Assert.Contains($"le=\"{bound.ToString(CultureInfo.InvariantCulture)}\"", text);
        }

        // Orleans' meter is exported, without the directory cache gauge that walks the whole cache per scrape.
        Assert.Matches(@"(?m)^orleans_catalog_", text);
        Assert.DoesNotContain("orleans_directory_cache_size", text);
    }

    [Fact]
    [Trait("Area", "Metrics")]
    [Trait("Rule", "R8.5")]
    public void KpiLag_records_seconds_into_the_histogram_with_the_goal_buckets()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new DeliveryMetrics(factory);
        var recorded = new List<double>();
        IReadOnlyList<double>? buckets = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                // Only this factory's meter: the test host's silo has its own.
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == DeliveryMetrics.KpiLagName)
                {
                    buckets = ((Histogram<double>)instrument).Advice?.HistogramBucketBoundaries;
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => recorded.Add(value));
        listener.Start();

        metrics.KpiLag(TimeSpan.FromMilliseconds(1500));
        metrics.KpiLag(TimeSpan.FromSeconds(-1));

        Assert.Equal([1.5, 0], recorded);
        Assert.NotNull(buckets);
        Assert.Contains(2.0, buckets);
        Assert.Equal(buckets.Order(), buckets);
    }

    /// <summary>The value of the first sample named <paramref name="name"/> whose labels contain <paramref name="label"/>.</summary>
    private static double Value(string text, string name, string label = "")
    {
        foreach (Match match in Sample().Matches(text))
        {
            if (match.Groups["name"].Value == name && match.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            {
                return double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        throw new Xunit.Sdk.XunitException($"No sample {name}{{{label}}} in:\n{text}");
    }

    [GeneratedRegex(@"(?m)^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[^}]*\})? (?<value>[-+0-9.eE]+|NaN|\+Inf)")]
    private static partial Regex Sample();
}
