using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Spectre.Console;

namespace DeliveryGrains.Client.Commands;

/// <summary>The steps a command can chain: prepare, confirm, watch.</summary>
internal sealed class DeliverySteps(IGrainFactory grains, IAnsiConsole console, Caller caller, IAnsiConsole? errors = null)
{
    /// <summary>The steps for a command's settings: with <c>--json</c> they run on a quiet console and only the JSON is written (refusals still are).</summary>
    public static DeliverySteps For(ClientSettings settings, IGrainFactory grains, IAnsiConsole console, Caller caller) =>
        settings.Json ? new DeliverySteps(grains, Output.Quiet(), caller, console) : new DeliverySteps(grains, console, caller);

    /// <summary>The delivery as scripts read it: its view and what happens next.</summary>
    public async Task<object> SnapshotAsync(string id)
    {
        var delivery = grains.GetGrain<IDeliveryGrain>(id);
        var view = await delivery.GetViewAsync();
        var runs = view.Recurrence is not null ? await delivery.ListExecutionsAsync() : null;
        return new { delivery = view, runs, next = NextSteps.WaitingFor(view, runs, DateTimeOffset.UtcNow) };
    }

    public async Task<PreparationResult> PrepareAsync(string id)
    {
        var delivery = grains.GetGrain<IDeliveryGrain>(id);
        var result = await delivery.PrepareAsync(caller);
        var view = await delivery.GetViewAsync();
        console.Write(Tables.Preparation(result, template: view.Recurrence is not null));
        if (result.ToDeliver == 0)
        {
            console.WriteUnwrappedLine(
                $"Nothing to deliver: every recipient was excluded. {NextSteps.Command("exclusions", id)} says why; change the target and prepare again.",
                new Style(Color.Yellow));
        }
        else if (view.Recurrence is not null)
        {
            console.WriteUnwrappedLine($"Checked the target of the recurring delivery; each run resolves its own when it starts. Next: {NextSteps.Command("confirm", id)} starts its schedule (needs StartDeliveries).");
        }
        else
        {
            console.WriteUnwrappedLine($"Next: {NextSteps.Command("confirm", id)} starts the send (needs StartDeliveries).");
        }

        return result;
    }

    public async Task<DeliveryView> ConfirmAsync(string id)
    {
        var delivery = grains.GetGrain<IDeliveryGrain>(id);
        var view = await delivery.ConfirmSendAsync(caller);
        var runs = view.Recurrence is { } recurrence ? await FirstRunAsync(delivery, view, recurrence) : null;
        var now = DateTimeOffset.UtcNow;
        var what = view.Recurrence is not null ? "recurring delivery" : "delivery";
        console.WriteUnwrappedLine(view.Status switch
        {
            _ when view.Recurrence is not null => $"Confirmed: {what} {id} has started its schedule.",
            DeliveryStatus.Scheduled => $"Confirmed: {what} {id} is Scheduled.",
            _ when view.ValidUntil is { } until => $"Confirmed: {what} {id} is {view.Status}, valid until {Format.Instant(until)} ({Format.Duration(view.ValidityPeriod)}).",
            _ => $"Confirmed: {what} {id} is {view.Status}.",
        });
        console.WriteUnwrappedLine(NextSteps.WaitingFor(view, runs, now));
        return view;
    }

    /// <summary>
    /// The runs of a template just confirmed. When its first run is due now and will wait for a
    /// confirmation, waits (at most 10 s) until that run is prepared, so the answer can name it.
    /// </summary>
    private static async Task<IReadOnlyList<Execution>> FirstRunAsync(IDeliveryGrain template, DeliveryView view, Recurrence recurrence)
    {
        var runs = await template.ListExecutionsAsync();
        var waitsNow = recurrence.AggregationPeriod is null && view.RequestConfirmation && (view.SendAt is null || view.SendAt <= DateTimeOffset.UtcNow);
        if (!waitsNow)
        {
            return runs;
        }

        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        while ((runs.Count == 0 || runs[0].Status == DeliveryStatus.Draft) && DateTimeOffset.UtcNow < deadline && await poll.WaitForNextTickAsync())
        {
            runs = await template.ListExecutionsAsync();
        }

        return runs;
    }

    /// <summary>R2: pause, resume or stop; prints the status the delivery is in afterwards.</summary>
    public async Task<DeliveryView> ControlAsync(string id, DeliveryControl control)
    {
        var delivery = grains.GetGrain<IDeliveryGrain>(id);
        var view = control switch
        {
            DeliveryControl.Pause => await delivery.PauseAsync(caller),
            DeliveryControl.Resume => await delivery.ResumeAsync(caller),
            DeliveryControl.Stop => await delivery.StopAsync(caller),
            _ => throw new ArgumentOutOfRangeException(nameof(control), control, null),
        };
        console.WriteUnwrappedLine($"{Past(control)}: delivery {id} is {view.Status}; {DeploymentBlock.Summary(view)}");
        return view;
    }

    private static string Past(DeliveryControl control) => control switch
    {
        DeliveryControl.Pause => "Paused",
        DeliveryControl.Resume => "Resumed",
        _ => "Stopped",
    };

    /// <summary>Watches until the condition holds and ends with the full block; a timeout answers <see cref="ExitCodes.TimedOut"/>.</summary>
    public async Task<int> WatchAsync(string id, WatchUntil until, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }

        var watcher = new DeliveryWatcher(grains, console) { Display = errors is not null ? WatchDisplay.None : WatchDisplay.Auto };
        DeliveryView final;
        try
        {
            final = await watcher.WatchAsync(id, until, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var view = await grains.GetGrain<IDeliveryGrain>(id).GetViewAsync();
            CliErrors.Line(errors ?? console, $"Stopped watching after {Format.Duration(timeout!.Value)}: delivery {id} is {view.Status}, not yet {(until == WatchUntil.Finished ? "finished" : "settled")}.");
            return ExitCodes.TimedOut;
        }

        if (!console.Profile.Capabilities.Interactive && errors is null)
        {
            // The live display already shows the final block; line output ends with it.
            console.Write(DeploymentBlock.Render(final));
        }

        return ExitCodes.Ok;
    }
}
