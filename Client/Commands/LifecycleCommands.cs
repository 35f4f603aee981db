using System.ComponentModel;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

/// <summary><c>prepare ID</c>: to deliver and the exclusions by reason (R2.1).</summary>
public sealed class PrepareCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<DeliverySettings>(connection)
{
    protected override async Task<int> RunAsync(DeliverySettings settings, CancellationToken cancellationToken)
    {
        var steps = DeliverySteps.For(settings, grains, console, caller);
        var result = await steps.PrepareAsync(settings.Id);
        if (settings.Json)
        {
            console.WriteJson(new { preparation = result, snapshot = await steps.SnapshotAsync(settings.Id) });
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>confirm ID</c>: start the send (R1.1, R2.3).</summary>
public sealed class ConfirmCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<DeliverySettings>(connection)
{
    protected override async Task<int> RunAsync(DeliverySettings settings, CancellationToken cancellationToken)
    {
        var steps = DeliverySteps.For(settings, grains, console, caller);
        await steps.ConfirmAsync(settings.Id);
        if (settings.Json)
        {
            console.WriteJson(await steps.SnapshotAsync(settings.Id));
        }

        return ExitCodes.Ok;
    }
}

public enum DeliveryControl
{
    Pause,
    Resume,
    Stop,
}

/// <summary><c>pause ID</c> · <c>resume ID</c> · <c>stop ID</c> (R2; needs StartDeliveries).</summary>
public abstract class ControlCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection, DeliveryControl control)
    : ClientCommand<DeliverySettings>(connection)
{
    protected override async Task<int> RunAsync(DeliverySettings settings, CancellationToken cancellationToken)
    {
        var steps = DeliverySteps.For(settings, grains, console, caller);
        await steps.ControlAsync(settings.Id, control);
        if (settings.Json)
        {
            console.WriteJson(await steps.SnapshotAsync(settings.Id));
        }

        return ExitCodes.Ok;
    }
}

public sealed class PauseCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ControlCommand(grains, console, caller, connection, DeliveryControl.Pause);

public sealed class ResumeCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ControlCommand(grains, console, caller, connection, DeliveryControl.Resume);

public sealed class StopCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ControlCommand(grains, console, caller, connection, DeliveryControl.Stop);

public sealed class WatchSettings : DeliverySettings
{
    [CommandOption("--until-settled")]
    [Description("Stop once every message was sent and none waits for an outcome or a retry (settled), instead of waiting for the validity period to end.")]
    public bool UntilSettled { get; set; }

    [CommandOption("--until-finished")]
    [Description("Stop once the delivery is Finished, Stopped or Failed (the default).")]
    public bool UntilFinished { get; set; }

    [CommandOption("--timeout <DURATION>")]
    [Description("Give up after this long.")]
    public TimeSpan? Timeout { get; set; }

    public override ValidationResult Validate()
    {
        var basic = base.Validate();
        if (!basic.Successful)
        {
            return basic;
        }

        if (UntilSettled && UntilFinished)
        {
            return ValidationResult.Error("Give one of --until-settled and --until-finished.");
        }

        return Timeout is { } t && t <= TimeSpan.Zero
            ? ValidationResult.Error("--timeout must be longer than zero, e.g. 00:05:00.")
            : ValidationResult.Success();
    }
}

/// <summary><c>watch ID</c>: the Deployment block, live, until the delivery finishes or settles.</summary>
public sealed class WatchCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<WatchSettings>(connection)
{
    protected override async Task<int> RunAsync(WatchSettings settings, CancellationToken cancellationToken)
    {
        var steps = DeliverySteps.For(settings, grains, console, caller);
        var code = await steps.WatchAsync(settings.Id, settings.UntilSettled ? WatchUntil.Settled : WatchUntil.Finished, settings.Timeout, cancellationToken);
        if (settings.Json && code == ExitCodes.Ok)
        {
            console.WriteJson(await steps.SnapshotAsync(settings.Id));
        }

        return code;
    }
}

/// <summary><c>show ID</c>: the delivery and its Deployment block, once.</summary>
public sealed class ShowCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<DeliverySettings>(connection)
{
    protected override async Task<int> RunAsync(DeliverySettings settings, CancellationToken cancellationToken)
    {
        if (settings.Json)
        {
            console.WriteJson(await new DeliverySteps(grains, console, caller).SnapshotAsync(settings.Id));
            return ExitCodes.Ok;
        }

        var grain = grains.GetGrain<IDeliveryGrain>(settings.Id);
        var view = await grain.GetViewAsync();
        var pace = await DeploymentBlock.PaceAsync(grain, view, TimeProvider.System.GetUtcNow());
        var details = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        details.ShowHeaders = false;
        details.AddRow("Created by", Markup.Escape(view.CreatedBy));
        details.AddRow("Target size", Format.Count(view.TargetSize));
        details.AddRow("Validity period", Format.Duration(view.ValidityPeriod));
        details.AddRow("Retries", $"{view.MaxRetries} every {Format.Duration(view.RetryPeriod)}");
        details.AddRow("MTA", view.Mta.Kind == MtaKind.Simulated
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Simulated (hard {view.Mta.HardBounceRate:0.###}, soft {view.Mta.SoftBounceRate:0.###}, retry success {view.Mta.RetrySuccessRate:0.###}, feedback after {Format.Duration(view.Mta.EffectiveFeedbackDelay)})")
            : "External");
        details.AddRow("KPIs computed at", Format.Instant(view.Kpis.ComputedAt));
        if (view.SendAt is { } sendAt)
        {
            details.AddRow("Contact date", Format.Instant(sendAt));
        }

        if (view.Recurrence is { } recurrence)
        {
            details.AddRow("Recurrence", $"{recurrence.Count} runs, one every {Format.Duration(recurrence.Every)}{(recurrence.AggregationPeriod is { } period ? $", summed per {period}" : "")}");
        }
        console.Write(DeploymentBlock.Render(view, pace));
        console.Write(details);
        foreach (var warning in view.Warnings)
        {
            console.MarkupLineInterpolated($"[yellow]{warning}[/]");
        }

        var runs = view.Recurrence is not null ? await grains.GetGrain<IDeliveryGrain>(settings.Id).ListExecutionsAsync() : null;
        console.WriteUnwrappedLine(NextSteps.WaitingFor(view, runs, DateTimeOffset.UtcNow));
        return ExitCodes.Ok;
    }
}
