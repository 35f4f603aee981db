using System.Diagnostics;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Spectre.Console;

namespace DeliveryGrains.Client.Load;

/// <summary>
/// What a load run does: the deliveries to run at once, the silos' Prometheus endpoints to scrape,
/// and what the client's own configuration says about storage.
/// </summary>
/// <param name="Deliveries">One definition per concurrent delivery (distinct generated targets).</param>
/// <param name="MetricsEndpoints">Each silo's <c>/metrics</c>.</param>
/// <param name="ClusterThroughDatabase">The client found the cluster through PostgreSQL (<c>DeliveryGrains:Storage=Postgres</c>).</param>
public sealed record LoadPlan(IReadOnlyList<DeliveryDefinition> Deliveries, IReadOnlyList<Uri> MetricsEndpoints, bool ClusterThroughDatabase);

/// <summary>
/// One load run: create the generated deliveries, prepare them at once (timed), confirm them, poll
/// every view until each has settled (R8.8; every read timed), then check for each that Compute stats
/// (R8.7) equals the running KPIs. Meanwhile the silos' managed memory is sampled through the
/// management grain and their <c>/metrics</c> scraped (resident set, KPI lag histogram).
/// </summary>
public sealed class LoadTest(IGrainFactory grains, IAnsiConsole console, Caller caller, HttpClient http)
{
    /// <summary>R8.5: the running KPIs follow the logs at most this far behind.</summary>
    public static readonly TimeSpan KpiLagBound = TimeSpan.FromSeconds(2);

    /// <summary>View reads of one delivery waiting at once before a tick skips it.</summary>
    public const int MaxReadsInFlight = 8;

    /// <summary>How often each view is read and the management grain sampled.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the silos' <c>/metrics</c> are scraped while the run lasts.</summary>
    public TimeSpan ScrapeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a progress line is written when the console is not interactive.</summary>
    public TimeSpan LineInterval { get; init; } = TimeSpan.FromSeconds(5);

    public async Task<LoadReport> RunAsync(LoadPlan plan, CancellationToken cancellationToken)
    {
        var metrics = new SiloMetricsSampler(http, plan.MetricsEndpoints) { Interval = ScrapeInterval };
        await metrics.ScrapeAsync(cancellationToken);

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var memory = new SiloMemorySampler(grains, SampleInterval).RunAsync(stopSampling.Token);
        var scraping = metrics.RunAsync(stopSampling.Token);
        try
        {
            return await MeasureAsync(plan, metrics, memory, scraping, stopSampling, cancellationToken);
        }
        finally
        {
            await stopSampling.CancelAsync();
            await Task.WhenAll(memory, scraping);
        }
    }

    private async Task<LoadReport> MeasureAsync(
        LoadPlan plan, SiloMetricsSampler metrics, Task<MemoryPeak> memory, Task scraping, CancellationTokenSource stopSampling,
        CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var runs = plan.Deliveries.Select(d => new LoadRun(d, Guid.NewGuid().ToString("N"), grains)).ToList();
        var first = plan.Deliveries[0];
        await Task.WhenAll(runs.Select(r => r.Grain.CreateAsync(r.Definition, caller)));
        if (runs.Count == 1)
        {
            console.MarkupLineInterpolated($"Load test [bold]{runs[0].Id}[/]: {Format.Count(first.TargetSize)} recipients, {first.Channel}, {(first.EmailFeedbackService ? "with" : "without")} EFS, simulated MTA.");
        }
        else
        {
            console.MarkupLineInterpolated($"Load test: [bold]{runs.Count}[/] deliveries of {Format.Count(first.TargetSize)} recipients at once, {first.Channel}, {(first.EmailFeedbackService ? "with" : "without")} EFS, simulated MTA: {string.Join(", ", runs.Select(r => r.Id))}.");
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(runs.Select(r => r.PrepareAsync(caller)));
        var prepareTime = clock.Elapsed;
        var toDeliver = runs.Sum(r => r.Prepared!.ToDeliver);
        var excluded = runs.Sum(r => r.Excluded);
        if (runs.Count == 1)
        {
            console.MarkupLineInterpolated($"Prepared in {Format.Seconds(prepareTime)}: {Format.Count(toDeliver)} to deliver, {excluded} excluded.");
        }
        else
        {
            console.MarkupLineInterpolated($"Prepared {runs.Count} deliveries in {Format.Seconds(prepareTime)}: {Format.Count(toDeliver)} to deliver, {excluded} excluded.");
        }

        clock.Restart();
        await Task.WhenAll(runs.Select(r => r.ConfirmAsync(caller, clock)));
        var latency = new ViewLatency();
        var progress = new LoadProgress(runs, metrics, latency, clock) { Width = console.Profile.Width };
        await PollUntilSettledAsync(runs, latency, progress, clock, cancellationToken);
        var start = runs.Min(r => r.ConfirmedAt);
        var settleTime = runs.Max(r => r.SettledAt!.Value) - start;
        TimeSpan? relayTime = runs.All(r => r.RelayedAt is not null) ? runs.Max(r => r.RelayedAt!.Value) - start : null;
        if (runs.Count == 1)
        {
            console.MarkupLineInterpolated($"Settled in {Format.Seconds(settleTime)} after confirmation ({runs[0].LastView!.Status}).");
        }
        else
        {
            console.MarkupLineInterpolated($"All {runs.Count} deliveries settled {Format.Seconds(settleTime)} after the first confirmation.");
        }

        // Outcomes without EFS are not visible in Settled; let the last of them reach the KPIs first.
        await Task.WhenAll(runs.Select(r => r.QuietKpisAsync(KpiLagBound + r.Definition.Mta.EffectiveFeedbackDelay, SampleInterval, cancellationToken)));
        foreach (var run in runs)
        {
            // One at a time: Compute stats re-reads every log of the delivery.
            run.Recount = await run.Grain.ComputeStatsAsync(caller);
        }

        await stopSampling.CancelAsync();
        var peak = await memory;
        await scraping;
        await metrics.ScrapeAsync(cancellationToken);
        var silo = metrics.Figures(KpiLagBound.TotalSeconds);

        var reports = runs.Select(r => r.Report()).ToList();
        var running = KpiTotals.Sum(reports.Select(r => r.RunningKpis).ToList());
        var recount = KpiTotals.Sum(reports.Select(r => r.RecountedKpis).ToList());
        var (storage, storageSource) = Storage(silo, plan);
        return new LoadReport(
            runs[0].Id, startedAt, runs.Sum(r => r.Definition.TargetSize), toDeliver, excluded, first.Channel,
            first.EmailFeedbackService, first.GeneratedTarget?.Seed ?? 0, first.ValidityPeriod, first.RetryPeriod,
            first.MaxRetries, first.Mta,
            prepareTime.TotalSeconds, relayTime?.TotalSeconds, settleTime.TotalSeconds,
            relayTime is { } relay ? toDeliver / Math.Max(relay.TotalSeconds, 1e-3) : null,
            toDeliver / Math.Max(settleTime.TotalSeconds, 1e-3),
            reports.FirstOrDefault(r => !r.Settled)?.FinalStatus ?? reports[0].FinalStatus,
            reports.All(r => r.Settled), running, recount,
            reports.All(r => r.StatsMatch),
            [.. reports.SelectMany(r => runs.Count == 1 ? r.StatsDifferences : r.StatsDifferences.Select(d => $"{r.DeliveryId}: {d}"))],
            peak.PeakBytes, MemoryPeak.Figure, peak.MaximumAvailableBytes, peak.PeakActivations, peak.Samples, peak.LastError,
            Environment.ProcessorCount,
            runs.Count, first.TargetSize, reports, latency.Figures(), silo, silo.PeakResidentBytes, storage, storageSource);
    }

    private async Task PollUntilSettledAsync(
        List<LoadRun> runs, ViewLatency latency, LoadProgress progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        // Open loop: each delivery is read on every tick whether or not its previous read has
        // answered, so a slow phase is sampled as often as a fast one (no coordinated omission); at
        // most MaxReadsInFlight per delivery, a tick that finds them all waiting is counted as skipped.
        async Task PollAsync(Action show)
        {
            var reads = new List<Task>();
            using var timer = new PeriodicTimer(SampleInterval);
            do
            {
                foreach (var run in runs.Where(r => r.SettledAt is null))
                {
                    if (run.ReadsInFlight < MaxReadsInFlight)
                    {
                        reads.Add(run.ReadAsync(latency, clock));
                    }
                    else
                    {
                        latency.Skip();
                    }
                }

                foreach (var done in reads.Where(t => t.IsCompleted).ToList())
                {
                    await done; // a failed read fails the run, as before
                    reads.Remove(done);
                }

                show();
            }
            while (!runs.All(r => r.SettledAt is not null) && await timer.WaitForNextTickAsync(cancellationToken));

            await Task.WhenAll(reads);
        }

        if (console.Profile.Capabilities.Interactive)
        {
            await console.Live(progress.Render()).AutoClear(false).StartAsync(async context => await PollAsync(() =>
            {
                context.UpdateTarget(progress.Render());
                context.Refresh();
            }));
        }
        else
        {
            var next = LineInterval;
            await PollAsync(() =>
            {
                if (clock.Elapsed >= next)
                {
                    next = clock.Elapsed + LineInterval;
                    console.WriteUnwrappedLine(progress.Line());
                }
            });
        }
    }

    private static (string? Mode, string Source) Storage(SiloMetricsFigures silo, LoadPlan plan) =>
        silo.StorageMode is { } mode ? (mode, $"the silo's metrics ({SiloMetricNames.SiloInfo})")
        : plan.ClusterThroughDatabase ? ("Postgres", "the client's configuration: it found the cluster through the database (DeliveryGrains:Storage=Postgres)")
        : (null, "unknown: the silo's DeliveryGrains:Storage decides, and its /metrics did not say");
}

/// <summary>One delivery of a load run, as the run follows it; times on the run's clock.</summary>
public sealed class LoadRun(DeliveryDefinition definition, string id, IGrainFactory grains)
{
    private readonly Lock _gate = new();
    private long _issued;
    private long _observed;
    private int _inFlight;
    private TimeSpan? _relayedAt;
    private TimeSpan? _settledAt;
    private DeliveryView? _lastView;

    public DeliveryDefinition Definition => definition;

    public string Id => id;

    public IDeliveryGrain Grain { get; } = grains.GetGrain<IDeliveryGrain>(id);

    public PreparationResult? Prepared { get; private set; }

    public int Excluded => Prepared?.Excluded.Values.Sum() ?? 0;

    public TimeSpan PrepareTime { get; private set; }

    public TimeSpan ConfirmedAt { get; private set; }

    // Written by reads that answer on the thread pool, read by the poll loop and the display.
    public TimeSpan? RelayedAt
    {
        get { lock (_gate) { return _relayedAt; } }
    }

    public TimeSpan? SettledAt
    {
        get { lock (_gate) { return _settledAt; } }
    }

    public DeliveryView? LastView
    {
        get { lock (_gate) { return _lastView; } }
    }

    public DeliveryView? Quiet { get; private set; }

    public Kpis? Recount { get; set; }

    /// <summary>Since confirmation: until settled once it has, else until <paramref name="now"/>.</summary>
    public TimeSpan Elapsed(TimeSpan now) => (SettledAt ?? now) - ConfirmedAt;

    public async Task PrepareAsync(Caller caller)
    {
        var clock = Stopwatch.StartNew();
        Prepared = await Grain.PrepareAsync(caller);
        PrepareTime = clock.Elapsed;
    }

    public async Task ConfirmAsync(Caller caller, Stopwatch clock)
    {
        await Grain.ConfirmSendAsync(caller);
        ConfirmedAt = clock.Elapsed;
    }

    public int ReadsInFlight => Volatile.Read(ref _inFlight);

    /// <summary>Reads the view (timed into <paramref name="latency"/>); an answer older than one already seen is not observed.</summary>
    public async Task ReadAsync(ViewLatency latency, Stopwatch clock)
    {
        var sequence = Interlocked.Increment(ref _issued);
        Interlocked.Increment(ref _inFlight);
        try
        {
            var view = await latency.ReadAsync(Grain);
            lock (_gate)
            {
                if (sequence > _observed)
                {
                    _observed = sequence;
                    Observe(view, clock.Elapsed);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public void Observe(DeliveryView view, TimeSpan now)
    {
        lock (_gate)
        {
            _lastView = view;
            if (_relayedAt is null && view.Kpis.Sent == view.Kpis.ToDeliver
                && (WatchConditions.IsRunning(view.Status) || WatchConditions.HasEnded(view.Status)))
            {
                _relayedAt = now;
            }

            if (_settledAt is null && WatchConditions.Holds(view, WatchUntil.Settled))
            {
                _settledAt = now;
            }
        }
    }

    /// <summary>Polls until the log-following KPIs have not moved for <paramref name="quiet"/>.</summary>
    public async Task QuietKpisAsync(TimeSpan quiet, TimeSpan interval, CancellationToken cancellationToken)
    {
        var view = await Grain.GetViewAsync();
        var since = Stopwatch.StartNew();
        while (since.Elapsed < quiet)
        {
            await Task.Delay(interval, cancellationToken);
            var next = await Grain.GetViewAsync();
            if (next.Status != view.Status || !KpiFigures.LogFiguresEqual(next.Kpis, view.Kpis))
            {
                since.Restart();
            }

            view = next;
        }

        Quiet = view;
    }

    public LoadRunReport Report()
    {
        var running = Quiet ?? LastView ?? throw new InvalidOperationException("The delivery was never read.");
        var recount = Recount ?? throw new InvalidOperationException("Compute stats did not run.");
        var toDeliver = Prepared?.ToDeliver ?? 0;
        TimeSpan? relay = RelayedAt - ConfirmedAt;
        var settle = (SettledAt ?? ConfirmedAt) - ConfirmedAt;
        return new LoadRunReport(
            id, definition.GeneratedTarget?.Seed ?? 0, definition.Mta.Seed, toDeliver, Excluded,
            PrepareTime.TotalSeconds, relay?.TotalSeconds, settle.TotalSeconds,
            relay is { } r ? toDeliver / Math.Max(r.TotalSeconds, 1e-3) : null,
            toDeliver / Math.Max(settle.TotalSeconds, 1e-3),
            running.Status, running.Kpis.Settled, running.Kpis, recount,
            KpiFigures.LogFiguresEqual(running.Kpis, recount), KpiFigures.Differences(running.Kpis, recount, withTracking: false));
    }
}
