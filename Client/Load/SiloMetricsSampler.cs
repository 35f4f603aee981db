using System.Text.Json.Serialization;

namespace DeliveryGrains.Client.Load;

/// <summary>The silo metrics the load tool reads, by their Prometheus names (the silo's meter <c>DeliveryGrains</c>).</summary>
public static class SiloMetricNames
{
    /// <summary>Gauge: the silo process's resident set now.</summary>
    public const string WorkingSet = "deliverygrains_process_working_set_bytes";

    /// <summary>Gauge: the silo process's peak resident set since it started (VmHWM on Linux).</summary>
    public const string PeakWorkingSet = "deliverygrains_process_peak_working_set_bytes";

    /// <summary>Histogram (seconds): how long a sending log's change waited before its delivery's KPIs included it.</summary>
    public const string KpiLag = "deliverygrains_kpi_lag_seconds";

    /// <summary>Gauge, always 1: its <c>storage</c> label is the silo's <c>DeliveryGrains:Storage</c>.</summary>
    public const string SiloInfo = "deliverygrains_silo_info";
}

/// <summary>The KPI lag over a run, from the bucket deltas of <see cref="SiloMetricNames.KpiLag"/> between the first and the last scrape.</summary>
/// <param name="Count">Flushes that recorded a lag during the run.</param>
/// <param name="P50Seconds">Median, interpolated inside its bucket (as Prometheus' histogram_quantile).</param>
/// <param name="P99Seconds">99th percentile, interpolated the same way.</param>
/// <param name="ShareWithinBound">Share of the lags at most <paramref name="BoundSeconds"/> (read at that bucket bound).</param>
/// <param name="BoundSeconds">The lag the goal allows (R8.5: 2 s).</param>
/// <param name="MaxBucketBoundSeconds">Upper bound of the highest bucket that holds a lag; null when one was above every bound.</param>
/// <param name="Buckets">The run's cumulative bucket counts, by upper bound (<c>+Inf</c> last).</param>
public sealed record KpiLagFigures(
    long Count,
    double? P50Seconds,
    double? P99Seconds,
    double? ShareWithinBound,
    double BoundSeconds,
    double? MaxBucketBoundSeconds,
    IReadOnlyList<KpiLagBucket> Buckets)
{
    public static KpiLagFigures From(HistogramBuckets run, double boundSeconds)
    {
        var max = run.MaxBound();
        return new KpiLagFigures(
            (long)run.Count,
            run.Quantile(0.5),
            run.Quantile(0.99),
            run.ShareAtMost(boundSeconds),
            boundSeconds,
            max is { } m && double.IsFinite(m) ? m : null,
            run.Buckets.Select(b => new KpiLagBucket(
                double.IsPositiveInfinity(b.UpperBound) ? "+Inf" : b.UpperBound.ToString(System.Globalization.CultureInfo.InvariantCulture),
                (long)b.Count)).ToList());
    }
}

/// <summary>One cumulative bucket of the run's KPI lags: how many were at most <paramref name="Le"/> seconds.</summary>
public sealed record KpiLagBucket(string Le, long Count);

/// <summary>What the silos' <c>/metrics</c> said over a run.</summary>
/// <param name="Endpoints">The scraped URLs, one per silo.</param>
/// <param name="Reachable">At least one scrape answered.</param>
/// <param name="Scrapes">Scrapes that answered (all endpoints).</param>
/// <param name="FailedScrapes">Scrapes that failed.</param>
/// <param name="Error">The last failure, if any.</param>
/// <param name="StorageMode">The silos' <c>DeliveryGrains:Storage</c> from <see cref="SiloMetricNames.SiloInfo"/>; null when not exported.</param>
/// <param name="PeakWorkingSetBytes">Largest resident set sampled during the run (any silo).</param>
/// <param name="PeakWorkingSetGaugeBytes">The silos' own peak resident set (VmHWM since each started) at the last scrape, the largest silo's.</param>
/// <param name="KpiLag">The run's KPI lags; null when the silo exported none.</param>
public sealed record SiloMetricsFigures(
    IReadOnlyList<string> Endpoints,
    bool Reachable,
    int Scrapes,
    int FailedScrapes,
    string? Error,
    string? StorageMode,
    long? PeakWorkingSetBytes,
    long? PeakWorkingSetGaugeBytes,
    KpiLagFigures? KpiLag)
{
    [JsonIgnore]
    public long? PeakResidentBytes => PeakWorkingSetBytes is { } sampled
        ? Math.Max(sampled, PeakWorkingSetGaugeBytes ?? 0)
        : PeakWorkingSetGaugeBytes;
}

/// <summary>What the live display shows of the silos between scrapes.</summary>
public sealed record SiloMetricsNow(long? WorkingSetBytes, long? PeakWorkingSetBytes, string? Error);

/// <summary>
/// Scrapes each silo's Prometheus endpoint: once before the run (the histogram's baseline), every
/// <see cref="Interval"/> while it runs (the resident set's live peak) and once after it. A scrape
/// that fails is counted and named, never thrown.
/// </summary>
public sealed class SiloMetricsSampler(HttpClient http, IReadOnlyList<Uri> endpoints)
{
    private readonly Endpoint[] _endpoints = [.. endpoints.Select(u => new Endpoint(u))];
    private volatile SiloMetricsNow _now = new(null, null, null);
    private int _scrapes;
    private int _failures;
    private string? _error;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public SiloMetricsNow Now => _now;

    /// <summary>Scrapes every endpoint once; the first call sets the histogram baseline.</summary>
    public async Task ScrapeAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_endpoints.Select(e => ScrapeAsync(e, cancellationToken)));
        long? current = null, peak = null;
        foreach (var e in _endpoints)
        {
            current = Max(current, e.LastWorkingSet);
            peak = Max(peak, e.PeakSampled);
        }

        _now = new SiloMetricsNow(current, peak, _error);
    }

    /// <summary>Scrapes on <see cref="Interval"/> until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await ScrapeAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>The figures from the scrapes so far (call after the last one).</summary>
    public SiloMetricsFigures Figures(double kpiLagBoundSeconds)
    {
        long? sampled = null, gauge = null;
        var storage = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in _endpoints)
        {
            sampled = Max(sampled, e.PeakSampled);
            gauge = Max(gauge, e.LastPeakGauge);
            if (e.Storage is { } s)
            {
                storage.Add(s);
            }
        }

        var lag = HistogramBuckets.Sum(_endpoints.Select(e => e.Last?.Since(e.Baseline)));
        return new SiloMetricsFigures(
            [.. _endpoints.Select(e => e.Url.ToString())],
            _scrapes > 0,
            _scrapes,
            _failures,
            _error,
            storage.Count == 0 ? null : string.Join(",", storage),
            sampled,
            gauge,
            lag is null ? null : KpiLagFigures.From(lag, kpiLagBoundSeconds));
    }

    private async Task ScrapeAsync(Endpoint endpoint, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(endpoint.Url, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                Fail($"{endpoint.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
                return;
            }

            var text = PrometheusText.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            endpoint.Read(text);
            Interlocked.Increment(ref _scrapes);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            Fail($"{endpoint.Url}: {(ex is TaskCanceledException ? $"no answer within {http.Timeout.TotalSeconds:0.#} s" : ex.Message)}");
        }
    }

    private void Fail(string error)
    {
        Interlocked.Increment(ref _failures);
        _error = error;
    }

    private static long? Max(long? a, long? b) => a is { } x ? b is { } y ? Math.Max(x, y) : x : b;

    /// <summary>One silo's scrapes.</summary>
    private sealed class Endpoint(Uri url)
    {
        private bool _first = true;

        public Uri Url => url;

        public long? LastWorkingSet { get; private set; }

        public long? PeakSampled { get; private set; }

        public long? LastPeakGauge { get; private set; }

        public string? Storage { get; private set; }

        public HistogramBuckets? Baseline { get; private set; }

        public HistogramBuckets? Last { get; private set; }

        public void Read(PrometheusText text)
        {
            var lag = text.Histogram(SiloMetricNames.KpiLag);
            if (_first)
            {
                // A histogram absent at the first scrape had no observation before the run.
                Baseline = lag;
                _first = false;
            }

            Last = lag ?? Last;
            if (text.Max(SiloMetricNames.WorkingSet) is { } ws)
            {
                LastWorkingSet = (long)ws;
                PeakSampled = Math.Max(PeakSampled ?? 0, (long)ws);
            }

            if (text.Max(SiloMetricNames.PeakWorkingSet) is { } peak)
            {
                LastPeakGauge = (long)peak;
            }

            Storage = text.Named(SiloMetricNames.SiloInfo).Select(s => s.Label("storage")).FirstOrDefault(s => s is not null) ?? Storage;
        }
    }
}
