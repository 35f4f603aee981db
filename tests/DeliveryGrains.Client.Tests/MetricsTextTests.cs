using DeliveryGrains.Client.Load;

namespace DeliveryGrains.Client.Tests;

/// <summary>The load tool's reading of a silo's Prometheus text and of the KPI lag histogram (no cluster needed).</summary>
public sealed class MetricsTextTests
{
    /// <summary>Five lags at most 50 ms before the run.</summary>
    public const string Before = """
        # HELP deliverygrains_kpi_lag_seconds How long a change of a sending log waited.
        # TYPE deliverygrains_kpi_lag_seconds histogram
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.05"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.1"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.25"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.5"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.75"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="1"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="1.5"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="2"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="3"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="5"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="10"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="30"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="+Inf"} 5 1764258000000
        deliverygrains_kpi_lag_seconds_sum{otel_scope_name="DeliveryGrains"} 0.1 1764258000000
        deliverygrains_kpi_lag_seconds_count{otel_scope_name="DeliveryGrains"} 5 1764258000000
        # TYPE deliverygrains_process_working_set_bytes gauge
        # UNIT deliverygrains_process_working_set_bytes bytes
        deliverygrains_process_working_set_bytes{otel_scope_name="DeliveryGrains"} 100000000 1764258000000
        deliverygrains_process_peak_working_set_bytes{otel_scope_name="DeliveryGrains"} 200000000 1764258000000
        deliverygrains_silo_info{otel_scope_name="DeliveryGrains",storage="Memory"} 1 1764258000000
        orleans_note{text="a \"quoted\" value, with a comma and a brace }"} 1
        this line is not a sample
        """;

    /// <summary>
    /// 100 more lags during the run: 5 at most 50 ms, 40 in (0.25, 0.5], 50 in (0.5, 0.75], 4 in (1.5, 2]
    /// and 1 in (2, 3]; the resident set went up to 300 MB, the peak gauge to 350 MB.
    /// </summary>
    public const string After = """
        # TYPE deliverygrains_kpi_lag_seconds histogram
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.05"} 10
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.1"} 10
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.25"} 10
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.5"} 50
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="0.75"} 100
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="1"} 100
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="1.5"} 100
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="2"} 104
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="3"} 105
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="5"} 105
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="10"} 105
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="30"} 105
        deliverygrains_kpi_lag_seconds_bucket{otel_scope_name="DeliveryGrains",le="+Inf"} 105
        deliverygrains_kpi_lag_seconds_count{otel_scope_name="DeliveryGrains"} 105
        deliverygrains_process_working_set_bytes{otel_scope_name="DeliveryGrains"} 300000000
        deliverygrains_process_peak_working_set_bytes{otel_scope_name="DeliveryGrains"} 350000000
        deliverygrains_silo_info{otel_scope_name="DeliveryGrains",storage="Memory"} 1
        """;

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.5")]
    public void The_text_format_is_read_with_labels_escapes_and_timestamps()
    {
        var text = PrometheusText.Parse(Before);

        Assert.Equal(100_000_000, text.Max(SiloMetricNames.WorkingSet));
        Assert.Equal(200_000_000, text.Max(SiloMetricNames.PeakWorkingSet));
        Assert.Equal("Memory", Assert.Single(text.Named(SiloMetricNames.SiloInfo)).Label("storage"));
        Assert.Equal("a \"quoted\" value, with a comma and a brace }", Assert.Single(text.Named("orleans_note")).Label("text"));
        Assert.Null(text.Max("absent"));
        var lag = text.Histogram(SiloMetricNames.KpiLag);
        Assert.NotNull(lag);
        Assert.Equal(13, lag.Buckets.Count);
        Assert.True(double.IsPositiveInfinity(lag.Buckets[^1].UpperBound));
        Assert.Equal(5, lag.Count);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.5")]
    public void The_KPI_lag_of_a_run_comes_from_the_bucket_deltas()
    {
        var before = PrometheusText.Parse(Before).Histogram(SiloMetricNames.KpiLag);
        var run = PrometheusText.Parse(After).Histogram(SiloMetricNames.KpiLag)!.Since(before);

        var figures = KpiLagFigures.From(run, boundSeconds: 2);

        Assert.Equal(100, figures.Count);
        Assert.Equal(0.525, figures.P50Seconds!.Value, precision: 9);   // rank 50: 5 of the 50 in (0.5, 0.75]
        Assert.Equal(2.0, figures.P99Seconds!.Value, precision: 9);     // rank 99: the last of the 4 in (1.5, 2]
        Assert.Equal(0.99, figures.ShareWithinBound!.Value, precision: 9);
        Assert.Equal(3, figures.MaxBucketBoundSeconds);
        Assert.Equal("+Inf", figures.Buckets[^1].Le);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.5")]
    public void A_lag_above_every_bound_has_no_max_bound_and_a_silo_restart_counts_from_zero()
    {
        var restarted = new HistogramBuckets([new(1, 1), new(2, 1), new(double.PositiveInfinity, 3)]);
        var earlier = new HistogramBuckets([new(1, 50), new(2, 60), new(double.PositiveInfinity, 70)]);

        var run = restarted.Since(earlier);
        var figures = KpiLagFigures.From(run, 2);

        Assert.Equal(3, figures.Count);
        Assert.Null(figures.MaxBucketBoundSeconds);
        Assert.Equal(1.0 / 3, figures.ShareWithinBound!.Value, precision: 9);
        Assert.Equal(2, run.Quantile(0.99));   // in the +Inf bucket: the largest finite bound
        Assert.Null(new HistogramBuckets([]).Quantile(0.5));
    }

    [Fact]
    [Trait("Area", "Client")]
    public void View_read_percentiles_are_nearest_rank()
    {
        var latency = new ViewLatency();
        foreach (var ms in Enumerable.Range(1, 20))
        {
            latency.Add(TimeSpan.FromMilliseconds(ms));
        }

        latency.Skip();
        var figures = latency.Figures();

        Assert.Equal(20, figures.Count);
        Assert.Equal(1, figures.Skipped);
        Assert.Equal(10, figures.MedianMs!.Value, precision: 6);
        Assert.Equal(19, figures.P95Ms!.Value, precision: 6);
        Assert.Equal(20, figures.MaxMs!.Value, precision: 6);
        Assert.Equal(new ViewLatencyFigures(0, null, null, null), new ViewLatency().Figures());
    }
}
