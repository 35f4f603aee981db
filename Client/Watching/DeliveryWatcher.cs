using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DeliveryGrains.Client.Watching;

/// <summary>When a watch ends.</summary>
public enum WatchUntil
{
    /// <summary>The delivery is Finished (validity over), Stopped or Failed.</summary>
    Finished,

    /// <summary>Every message was sent and none waits for an outcome or a retry (R8.8), or the delivery ended.</summary>
    Settled,
}

/// <summary>How a watch shows what it sees.</summary>
public enum WatchDisplay
{
    /// <summary>Live on an interactive terminal, one line per change otherwise.</summary>
    Auto,

    /// <summary>The Deployment block updated in place.</summary>
    Live,

    /// <summary>One summary line per change.</summary>
    Lines,

    /// <summary>Nothing.</summary>
    None,
}

public static class WatchConditions
{
    public static bool HasEnded(DeliveryStatus status) =>
        status is DeliveryStatus.Finished or DeliveryStatus.Stopped or DeliveryStatus.Failed;

    public static bool IsRunning(DeliveryStatus status) =>
        status is DeliveryStatus.InProgress or DeliveryStatus.Paused or DeliveryStatus.Sent;

    public static bool Holds(DeliveryView view, WatchUntil until) => until switch
    {
        WatchUntil.Finished => HasEnded(view.Status),
        WatchUntil.Settled => HasEnded(view.Status) || (IsRunning(view.Status) && view.Kpis.Settled),
        _ => throw new ArgumentOutOfRangeException(nameof(until), until, null),
    };
}

/// <summary>
/// Polls a delivery's view until a condition holds, showing the Deployment block as it goes.
/// Cancel the token to stop early (a timeout, Ctrl+C); the watch then throws <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class DeliveryWatcher(IGrainFactory grains, IAnsiConsole console, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public WatchDisplay Display { get; init; } = WatchDisplay.Auto;

    /// <summary>Called with every view read, before the condition is checked.</summary>
    public Action<DeliveryView>? OnView { get; init; }

    public Task<DeliveryView> WatchAsync(string deliveryId, WatchUntil until = WatchUntil.Finished, CancellationToken cancellationToken = default) =>
        WatchAsync(deliveryId, view => WatchConditions.Holds(view, until), cancellationToken);

    public async Task<DeliveryView> WatchAsync(string deliveryId, Func<DeliveryView, bool> done, CancellationToken cancellationToken = default)
    {
        var grain = grains.GetGrain<IDeliveryGrain>(deliveryId);
        var first = await grain.GetViewAsync();
        switch (EffectiveDisplay)
        {
            case WatchDisplay.Live:
                return await console.Live(Block(first, null))
                    .AutoClear(false)
                    .StartAsync(context => PollAsync(grain, first, done, (view, runs) =>
                    {
                        context.UpdateTarget(Block(view, runs));
                        context.Refresh();
                    }, cancellationToken));
            case WatchDisplay.Lines:
                string? last = null;
                var ended = await PollAsync(grain, first, done, (view, runs) =>
                {
                    // Absolute instants only: a line is printed when the delivery changes, not the clock.
                    var line = $"{DeploymentBlock.Summary(view, Pace(view))} — {NextSteps.WaitingFor(view, runs, _time.GetUtcNow(), relative: false)}";
                    if (line != last)
                    {
                        last = line;
                        console.WriteUnwrappedLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_time.GetUtcNow().UtcDateTime:HH:mm:ss.f} {line}"));
                    }
                }, cancellationToken);
                if (ShowsDomains)
                {
                    console.Write(DomainTable.Render(_domains!));
                }

                return ended;
            default:
                return await PollAsync(grain, first, done, (_, _) => { }, cancellationToken);
        }
    }

    /// <summary>The Deployment block and, under it, what the delivery is waiting for.</summary>
    private IRenderable Block(DeliveryView view, IReadOnlyList<Execution>? runs) => ShowsDomains
        ? new Rows(DeploymentBlock.Render(view, Pace(view)), DomainTable.Render(_domains!), new Text(NextSteps.WaitingFor(view, runs, _time.GetUtcNow()), new Style(Color.Grey)))
        : new Rows(DeploymentBlock.Render(view, Pace(view)), new Text(NextSteps.WaitingFor(view, runs, _time.GetUtcNow()), new Style(Color.Grey)));

    /// <summary>Rate, time left and deferrals as the console shows them, once the send started and the timeline was read.</summary>
    private DeploymentPace? Pace(DeliveryView view) =>
        _points is { } points && view.Recurrence is null && view.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled)
            ? DeploymentPace.Of(view, points, _domains ?? [], _time.GetUtcNow())
            : null;

    /// <summary>The domain table is shown for a delivery to several domains, or one a relay defers or caps (R12.3).</summary>
    private bool ShowsDomains => _domains is { Count: > 1 } or [{ Deferrals: > 0 } or { RateCapPerMinute: not null }];

    private WatchDisplay EffectiveDisplay => Display == WatchDisplay.Auto
        ? console.Profile.Capabilities.Interactive ? WatchDisplay.Live : WatchDisplay.Lines
        : Display;

    /// <summary>How often the per-domain view (a fan-out to every partition) and the timeline (for the rate) are read while watching.</summary>
    public TimeSpan DomainsInterval { get; init; } = TimeSpan.FromSeconds(1);

    private IReadOnlyList<DomainStats>? _domains;
    private IReadOnlyList<TimelinePoint>? _points;
    private DateTimeOffset _domainsReadAt = DateTimeOffset.MinValue;

    private async Task<DeliveryView> PollAsync(
        IDeliveryGrain grain, DeliveryView view, Func<DeliveryView, bool> done, Action<DeliveryView, IReadOnlyList<Execution>?> show, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (EffectiveDisplay != WatchDisplay.None && (done(view) || _time.GetUtcNow() - _domainsReadAt >= DomainsInterval))
            {
                // R12.3: the domains of a delivery relayed over SMTP (or a scenario) beside its Deployment block.
                _domains = await grain.GetDomainsAsync();
                _points = (await grain.GetTimelineAsync()).Points;
                _domainsReadAt = _time.GetUtcNow();
            }

            show(view, view.Recurrence is not null && EffectiveDisplay != WatchDisplay.None ? await grain.ListExecutionsAsync() : null);
            OnView?.Invoke(view);
            if (done(view))
            {
                return view;
            }

            await Task.Delay(PollInterval, _time, cancellationToken);
            view = await grain.GetViewAsync();
        }
    }
}
