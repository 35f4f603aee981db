using System.ComponentModel;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Targets;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class SubmitSettings : DeliveryOptionSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The delivery's name.")]
    public string Name { get; set; } = "";

    [CommandOption("--target <FILE>")]
    [Description("The target: a .csv with header profileId,address or a .json array of {profileId, address}.")]
    public string? Target { get; set; }

    [CommandOption("--generate <COUNT>")]
    [Description("A generated target of COUNT recipients instead of a file.")]
    public int? Generate { get; set; }

    [CommandOption("--seed <SEED>")]
    [Description("Seed of the generated target (default 1).")]
    [DefaultValue(1)]
    public int Seed { get; set; } = 1;

    [CommandOption("--domain <DOMAIN>")]
    [Description("Domain of the generated addresses.")]
    [DefaultValue("example.test")]
    public string Domain { get; set; } = "example.test";

    [CommandOption("--mta <KIND>")]
    [Description("Simulated (default) or External.")]
    [DefaultValue(MtaKind.Simulated)]
    public MtaKind MtaKind { get; set; } = MtaKind.Simulated;

    [CommandOption("--prepare")]
    [Description("Prepare the delivery after creating it.")]
    public bool Prepare { get; set; }

    [CommandOption("--confirm")]
    [Description("Prepare, then confirm the send (needs StartDeliveries).")]
    public bool Confirm { get; set; }

    [CommandOption("--watch")]
    [Description("After --confirm, follow the Deployment block until the delivery finishes.")]
    public bool Watch { get; set; }

    [CommandOption("--until-settled")]
    [Description("With --watch: stop once the delivery has settled (R8.8) instead of finished.")]
    public bool UntilSettled { get; set; }

    [CommandOption("--timeout <DURATION>")]
    [Description("With --watch: give up after this long.")]
    public TimeSpan? Timeout { get; set; }

    [CommandOption("--every <DURATION>")]
    [Description("Recurring delivery (R3.3): one run every DURATION, e.g. 1.00:00:00; needs --count.")]
    public TimeSpan? Every { get; set; }

    [CommandOption("--count <RUNS>")]
    [Description("Recurring delivery: how many runs in all.")]
    public int? Count { get; set; }

    [CommandOption("--aggregation <PERIOD>")]
    [Description("Recurring delivery: roll runs of the same Day, Week (ISO) or Month (UTC) into one execution (R3.4).")]
    public AggregationPeriod? Aggregation { get; set; }

    [CommandOption("--no-request-confirmation")]
    [Description("Recurring delivery: runs send by themselves instead of waiting in Ready (R3.2).")]
    public bool NoRequestConfirmation { get; set; }

    public GeneratedTarget? GeneratedTarget => Generate is { } count ? new GeneratedTarget(count, Seed, Domain) : null;

    public DeliveryDefinition Definition(IReadOnlyList<Recipient>? recipients) =>
        Definition(Name, recipients, GeneratedTarget, MtaKind, DefinitionDefaults.Rules) with
        {
            RequestConfirmation = !NoRequestConfirmation,
            Recurrence = Every is null && Count is null ? null : new Recurrence(Every ?? TimeSpan.Zero, Count ?? 0, Aggregation),
        };

    public override ValidationResult Validate()
    {
        if ((Target is null) == (Generate is null))
        {
            return ValidationResult.Error("Give exactly one of --target FILE or --generate COUNT.");
        }

        if ((Every is null) != (Count is null) || (Aggregation is not null && Every is null))
        {
            return ValidationResult.Error("A recurring delivery needs both --every and --count (and --aggregation only with them).");
        }

        if ((Watch || UntilSettled || Timeout is not null) && !Confirm)
        {
            return ValidationResult.Error("--watch, --until-settled and --timeout follow a confirmed send: add --confirm.");
        }

        // Everything but a target file's entries can be checked before reading it.
        var errors = OptionErrors.Of(Definition(Target is null ? null : [new Recipient("placeholder", null)]));
        return errors.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(OptionErrors.Describe(errors));
    }
}

/// <summary>Creates a delivery with a new id and prints the id; optionally prepares, confirms and watches it.</summary>
public sealed class SubmitCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<SubmitSettings>(connection)
{
    protected override async Task<int> RunAsync(SubmitSettings settings, CancellationToken cancellationToken)
    {
        var recipients = settings.Target is { } path ? await TargetFile.ReadAsync(path, cancellationToken) : null;
        var definition = settings.Definition(recipients);
        var errors = OptionErrors.Of(definition);
        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }

        var id = Guid.NewGuid().ToString("N");
        var view = await grains.GetGrain<IDeliveryGrain>(id).CreateAsync(definition, caller);
        console.WriteLine(id);
        foreach (var warning in view.Warnings)
        {
            console.MarkupLineInterpolated($"[yellow]{warning}[/]");
        }

        var steps = new DeliverySteps(grains, console, caller);
        if (settings.Prepare || settings.Confirm)
        {
            await steps.PrepareAsync(id);
        }

        if (settings.Confirm)
        {
            await steps.ConfirmAsync(id);
        }

        return settings.Watch
            ? await steps.WatchAsync(id, settings.UntilSettled ? WatchUntil.Settled : WatchUntil.Finished, settings.Timeout, cancellationToken)
            : ExitCodes.Ok;
    }
}
