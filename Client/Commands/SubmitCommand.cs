using System.ComponentModel;
using DeliveryGrains.Addresses;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Rendering;
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

    [CommandOption("--country <CODE>")]
    [Description("With --channel Sms: the country calling code of numbers written without one (e.g. 33: 06 12 34 56 78 is +33612345678). Default: Client:DefaultCountryCode, else none.")]
    public string? Country { get; set; }

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
    [Description("Simulated (default), External or Smtp.")]
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
    [Description("With --watch: stop once every message has its outcome (settled) instead of when the validity period ends.")]
    public bool UntilSettled { get; set; }

    [CommandOption("--timeout <DURATION>")]
    [Description("With --watch: give up after this long.")]
    public TimeSpan? Timeout { get; set; }

    [CommandOption("--every <DURATION>")]
    [Description("Recurring delivery: one run every DURATION, e.g. 1.00:00:00 (a day), 7.00:00:00 (a week); needs --count. Each run is a delivery of its own.")]
    public TimeSpan? Every { get; set; }

    [CommandOption("--count <RUNS>")]
    [Description("Recurring delivery: how many runs in all.")]
    public int? Count { get; set; }

    [CommandOption("--aggregation <PERIOD>")]
    [Description("Recurring delivery: sum the runs of the same Day, Week (ISO, Monday to Sunday) or Month, in UTC, into one execution; runs then send without confirmation.")]
    public AggregationPeriod? Aggregation { get; set; }

    [CommandOption("--no-request-confirmation")]
    [Description("Recurring delivery: each run sends by itself instead of waiting in Ready for a StartDeliveries user to confirm it.")]
    public bool NoRequestConfirmation { get; set; }

    [CommandOption("--subject <TEMPLATE>")]
    [Description("The subject, a Liquid template (R14.1), e.g. 'Hi {{ firstName | default: \"there\" }}'.")]
    public string? Subject { get; set; }

    [CommandOption("--html <FILE>")]
    [Description("The HTML part: a file holding a Liquid template (R14.1); without --text the text part is made from it (R14.2).")]
    public string? Html { get; set; }

    [CommandOption("--text <FILE>")]
    [Description("The text part (an SMS's text): a file holding a Liquid template (R14.1).")]
    public string? Text { get; set; }

    [CommandOption("--from-name <NAME>")]
    [Description("The sender's display name in the From header.")]
    public string? FromName { get; set; }

    private (string? Html, string? Text, Dictionary<string, string[]> Errors)? _contentFiles;

    /// <summary>The --html and --text files, read once, with one line per file that cannot be read.</summary>
    private (string? Html, string? Text, Dictionary<string, string[]> Errors) ContentFiles()
    {
        if (_contentFiles is { } read)
        {
            return read;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string? Read(string option, string? path)
        {
            if (path is null)
            {
                return null;
            }

            try
            {
                return File.ReadAllText(path).ReplaceLineEndings("\n");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                errors[option] = [$"'{path}' cannot be read: {ex.Message}"];
                return null;
            }
        }

        var files = (Read("--html", Html), Read("--text", Text), errors);
        _contentFiles = files;
        return files;
    }

    /// <summary>The content the options give (R14.1); null without any, so the defaults apply.</summary>
    public MessageContent? Content()
    {
        var (html, text, _) = ContentFiles();
        return Subject is null && html is null && text is null && FromName is null ? null : new MessageContent(Subject, text, html, FromName: FromName);
    }

    public GeneratedTarget? GeneratedTarget => Generate is { } count ? new GeneratedTarget(count, Seed, Domain) : null;

    public DeliveryDefinition Definition(IReadOnlyList<Recipient>? recipients)
    {
        var definition = Definition(Name, recipients, GeneratedTarget, MtaKind, DefinitionDefaults.Rules);
        return definition with
        {
            Mta = definition.Mta with { Content = Content() },
            RequestConfirmation = !NoRequestConfirmation,
            Recurrence = Every is null && Count is null ? null : new Recurrence(Every ?? TimeSpan.Zero, Count ?? 0, Aggregation),
        };
    }

    public override ValidationResult Validate()
    {
        if ((Target is null) == (Generate is null))
        {
            return ValidationResult.Error("Give exactly one of --target FILE or --generate COUNT.");
        }

        if (Country is not null && !PhoneNumbers.IsCountryCode(Country))
        {
            return ValidationResult.Error($"--country: '{Country}' is not a country calling code; give 1 to 3 digits, e.g. 1 (USA, Canada), 33 (France), 44 (UK).");
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
        AddScenarioFileError(errors);
        foreach (var (option, messages) in ContentFiles().Errors)
        {
            errors[option] = messages;
        }

        return errors.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(OptionErrors.Describe(errors));
    }
}

/// <summary>Creates a delivery with a new id and prints the id; optionally prepares, confirms and watches it.</summary>
public sealed class SubmitCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection, TargetDefaults targetDefaults)
    : ClientCommand<SubmitSettings>(connection)
{
    protected override async Task<int> RunAsync(SubmitSettings settings, CancellationToken cancellationToken)
    {
        var target = settings.Target is { } path
            ? await TargetFile.ReadAsync(path, settings.Channel, settings.Country ?? targetDefaults.DefaultCountryCode, cancellationToken)
            : null;
        var recipients = target?.Recipients;
        var definition = settings.Definition(recipients);
        if (target is not null)
        {
            TargetFile.RefuseEntries(target, DeliveryRules.Validate(definition));
        }

        var errors = OptionErrors.Of(definition);
        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }

        var id = Guid.NewGuid().ToString("N");
        var view = await grains.GetGrain<IDeliveryGrain>(id).CreateAsync(definition, caller);
        var steps = DeliverySteps.For(settings, grains, console, caller);
        if (settings.Json)
        {
            return await JsonAsync(settings, steps, id, view, target, cancellationToken);
        }

        console.WriteLine(id);
        foreach (var warning in view.Warnings)
        {
            console.MarkupLineInterpolated($"[yellow]{warning}[/]");
        }

        foreach (var note in target?.Notes.Take(TargetFile.NotesShown) ?? [])
        {
            console.WriteUnwrappedLine(note, new Style(Color.Yellow));
        }

        if (target?.Notes.Count > TargetFile.NotesShown)
        {
            console.WriteUnwrappedLine($"… and {target.Notes.Count - TargetFile.NotesShown} more addresses preparation will exclude; 'exclusions {id}' lists them all after 'prepare'.", new Style(Color.Yellow));
        }

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

    /// <summary>The same steps, answered as one JSON document: the id, the preparation, the notes on the target and the delivery as it ends.</summary>
    private async Task<int> JsonAsync(SubmitSettings settings, DeliverySteps steps, string id, DeliveryView created, Target? target, CancellationToken cancellationToken)
    {
        var preparation = settings.Prepare || settings.Confirm ? await steps.PrepareAsync(id) : null;
        if (settings.Confirm)
        {
            await steps.ConfirmAsync(id);
        }

        var code = settings.Watch
            ? await steps.WatchAsync(id, settings.UntilSettled ? WatchUntil.Settled : WatchUntil.Finished, settings.Timeout, cancellationToken)
            : ExitCodes.Ok;
        if (code == ExitCodes.Ok)
        {
            console.WriteJson(new { id, warnings = created.Warnings, notes = target?.Notes ?? [], preparation, snapshot = await steps.SnapshotAsync(id) });
        }

        return code;
    }
}
