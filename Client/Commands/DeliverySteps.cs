using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Spectre.Console;

namespace DeliveryGrains.Client.Commands;

/// <summary>The steps a command can chain: prepare, confirm, watch.</summary>
internal sealed class DeliverySteps(IGrainFactory grains, IAnsiConsole console, Caller caller)
{
    public async Task<PreparationResult> PrepareAsync(string id)
    {
        var result = await grains.GetGrain<IDeliveryGrain>(id).PrepareAsync(caller);
        console.Write(Tables.Preparation(result));
        return result;
    }

    public async Task<DeliveryView> ConfirmAsync(string id)
    {
        var view = await grains.GetGrain<IDeliveryGrain>(id).ConfirmSendAsync(caller);
        console.WriteUnwrappedLine(view.Status == DeliveryStatus.Scheduled
            ? $"Confirmed by {caller.Name}: delivery {id} is Scheduled; relaying starts at {Format.Instant(view.SendAt)}."
            : $"Confirmed by {caller.Name}: delivery {id} is {view.Status}, valid until {Format.Instant(view.ValidUntil)}.");
        return view;
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
        console.WriteUnwrappedLine($"{control} by {caller.Name}: delivery {id} is {view.Status}; {DeploymentBlock.Summary(view)}");
        return view;
    }

    /// <summary>Watches until the condition holds and ends with the full block; a timeout answers <see cref="ExitCodes.TimedOut"/>.</summary>
    public async Task<int> WatchAsync(string id, WatchUntil until, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }

        var watcher = new DeliveryWatcher(grains, console);
        DeliveryView final;
        try
        {
            final = await watcher.WatchAsync(id, until, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var view = await grains.GetGrain<IDeliveryGrain>(id).GetViewAsync();
            CliErrors.Line(console, $"Stopped watching after {Format.Duration(timeout!.Value)}: delivery {id} is {view.Status}, not yet {(until == WatchUntil.Finished ? "finished" : "settled")}.");
            return ExitCodes.TimedOut;
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            // The live display already shows the final block; line output ends with it.
            console.Write(DeploymentBlock.Render(final));
        }

        return ExitCodes.Ok;
    }
}
