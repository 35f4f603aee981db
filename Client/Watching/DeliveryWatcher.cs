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
                return await PollAsync(grain, first, done, (view, runs) =>
                {
                    // Absolute instants only: a line is printed when the delivery changes, not the clock.
                    var line = $"{DeploymentBlock.Summary(view)} — {NextSteps.WaitingFor(view, runs, _time.GetUtcNow(), relative: false)}";
                    if (line != last)
                    {
                        last = line;
                        console.WriteUnwrappedLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_time.GetUtcNow().UtcDateTime:HH:mm:ss.f} {line}"));
                    }
                }, cancellationToken);
            default:
                return await PollAsync(grain, first, done, (_, _) => { }, cancellationToken);
        }
    }

    /// <summary>The Deployment block and, under it, what the delivery is waiting for.</summary>
    private IRenderable Block(DeliveryView view, IReadOnlyList<Execution>? runs) =>
        new Rows(DeploymentBlock.Render(view), new Text(NextSteps.WaitingFor(view, runs, _time.GetUtcNow()), new Style(Color.Grey)));

    private WatchDisplay EffectiveDisplay => Display == WatchDisplay.Auto
        ? console.Profile.Capabilities.Interactive ? WatchDisplay.Live : WatchDisplay.Lines
        : Display;

    private async Task<DeliveryView> PollAsync(
        IDeliveryGrain grain, DeliveryView view, Func<DeliveryView, bool> done, Action<DeliveryView, IReadOnlyList<Execution>?> show, CancellationToken cancellationToken)
    {
        while (true)
        {
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
