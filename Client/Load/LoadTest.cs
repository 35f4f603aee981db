using System.Diagnostics;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Spectre.Console;

namespace DeliveryGrains.Client.Load;

/// <summary>
/// One load run: create a generated delivery, prepare it (timed), confirm it, poll until it has
/// settled (R8.8), then check that Compute stats (R8.7) equals the running KPIs, while sampling the
/// silos' memory.
/// </summary>
public sealed class LoadTest(IGrainFactory grains, IAnsiConsole console, Caller caller)
{
    /// <summary>R8.5: the running KPIs follow the logs at most this far behind.</summary>
    public static readonly TimeSpan KpiLagBound = TimeSpan.FromSeconds(2);

    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public async Task<LoadReport> RunAsync(DeliveryDefinition definition, CancellationToken cancellationToken)
    {
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampling = new SiloMemorySampler(grains, SampleInterval).RunAsync(stopSampling.Token);
        try
        {
            return await MeasureAsync(definition, sampling, stopSampling, cancellationToken);
        }
        finally
        {
            await stopSampling.CancelAsync();
            await sampling;
        }
    }

    private async Task<LoadReport> MeasureAsync(
        DeliveryDefinition definition, Task<MemoryPeak> sampling, CancellationTokenSource stopSampling, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var id = Guid.NewGuid().ToString("N");
        var grain = grains.GetGrain<IDeliveryGrain>(id);
        await grain.CreateAsync(definition, caller);
        console.MarkupLineInterpolated($"Load test [bold]{id}[/]: {Format.Count(definition.TargetSize)} recipients, {definition.Channel}, {(definition.EmailFeedbackService ? "with" : "without")} EFS, simulated MTA.");

        var clock = Stopwatch.StartNew();
        var prepared = await grain.PrepareAsync(caller);
        var prepareTime = clock.Elapsed;
        console.MarkupLineInterpolated($"Prepared in {Format.Seconds(prepareTime)}: {Format.Count(prepared.ToDeliver)} to deliver, {prepared.Excluded.Values.Sum()} excluded.");

        await grain.ConfirmSendAsync(caller);
        clock.Restart();
        TimeSpan? relayTime = null;
        var watcher = new DeliveryWatcher(grains, console)
        {
            PollInterval = SampleInterval,
            Display = console.Profile.Capabilities.Interactive ? WatchDisplay.Live : WatchDisplay.None,
            OnView = view =>
            {
                if (relayTime is null && view.Kpis.Sent == view.Kpis.ToDeliver
                    && (WatchConditions.IsRunning(view.Status) || WatchConditions.HasEnded(view.Status)))
                {
                    relayTime = clock.Elapsed;
                }
            },
        };
        var settled = await watcher.WatchAsync(id, WatchUntil.Settled, cancellationToken);
        var settleTime = clock.Elapsed;
        console.MarkupLineInterpolated($"Settled in {Format.Seconds(settleTime)} after confirmation ({settled.Status}).");

        // Outcomes without EFS are not visible in Settled; let the last of them reach the KPIs first.
        var running = await QuietKpisAsync(grain, KpiLagBound + definition.Mta.EffectiveFeedbackDelay, cancellationToken);
        var recount = await grain.ComputeStatsAsync(caller);
        await stopSampling.CancelAsync();
        var memory = await sampling;

        var seconds = Math.Max(settleTime.TotalSeconds, 1e-3);
        return new LoadReport(
            id, startedAt, definition.TargetSize, prepared.ToDeliver, prepared.Excluded.Values.Sum(), definition.Channel,
            definition.EmailFeedbackService, definition.GeneratedTarget?.Seed ?? 0, definition.ValidityPeriod, definition.RetryPeriod,
            definition.MaxRetries, definition.Mta,
            prepareTime.TotalSeconds, relayTime?.TotalSeconds, settleTime.TotalSeconds,
            relayTime is { } relay ? prepared.ToDeliver / Math.Max(relay.TotalSeconds, 1e-3) : null,
            prepared.ToDeliver / seconds,
            running.Status, running.Kpis.Settled, running.Kpis, recount,
            KpiFigures.LogFiguresEqual(running.Kpis, recount), KpiFigures.Differences(running.Kpis, recount, withTracking: false),
            memory.PeakBytes, MemoryPeak.Figure, memory.MaximumAvailableBytes, memory.PeakActivations, memory.Samples, memory.LastError,
            Environment.ProcessorCount);
    }

    /// <summary>Polls until the log-following KPIs have not moved for <paramref name="quiet"/>.</summary>
    private async Task<DeliveryView> QuietKpisAsync(IDeliveryGrain grain, TimeSpan quiet, CancellationToken cancellationToken)
    {
        var view = await grain.GetViewAsync();
        var since = Stopwatch.StartNew();
        while (since.Elapsed < quiet)
        {
            await Task.Delay(SampleInterval, cancellationToken);
            var next = await grain.GetViewAsync();
            if (next.Status != view.Status || !KpiFigures.LogFiguresEqual(next.Kpis, view.Kpis))
            {
                since.Restart();
            }

            view = next;
        }

        return view;
    }
}
