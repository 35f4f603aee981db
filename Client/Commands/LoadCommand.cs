using System.ComponentModel;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Load;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class LoadSettings : DeliveryOptionSettings
{
    /// <summary>The defaults of a load run: immediate feedback, quick retries, a short validity.</summary>
    public static readonly DefinitionDefaults LoadDefaults = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(2), TimeSpan.Zero, MtaSeed: 7);

    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["generatedTarget.count"] = "--recipients",
        ["recipients"] = "--recipients",
    };

    [CommandOption("--recipients <COUNT>")]
    [Description("Recipients of the generated target.")]
    [DefaultValue(100_000)]
    public int Recipients { get; set; } = 100_000;

    [CommandOption("--seed <SEED>")]
    [Description("Seed of the generated target (the MTA's too unless --mta-seed is given). A rerun with the same seed meets its own quarantine.")]
    [DefaultValue(7)]
    public int Seed { get; set; } = 7;

    [CommandOption("--domain <DOMAIN>")]
    [Description("Domain of the generated addresses.")]
    [DefaultValue("example.test")]
    public string Domain { get; set; } = "example.test";

    [CommandOption("--report <FILE>")]
    [Description("Write the measurements as JSON to FILE.")]
    public string? Report { get; set; }

    public DeliveryDefinition Definition() => Definition(
        $"Load test: {Recipients} recipients",
        recipients: null,
        new GeneratedTarget(Recipients, Seed, Domain),
        MtaKind.Simulated,
        LoadDefaults with { MtaSeed = Seed });

    public override ValidationResult Validate()
    {
        var errors = OptionErrors.Of(Definition(), Renamed);
        if (Report is { } report && Path.GetDirectoryName(Path.GetFullPath(report)) is { } folder && !Directory.Exists(folder))
        {
            errors["--report"] = [$"The folder '{folder}' does not exist."];
        }

        return errors.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(OptionErrors.Describe(errors));
    }
}

/// <summary><c>load</c>: a timed run on the simulated MTA, with a stats check and the silo's peak memory.</summary>
public sealed class LoadCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<LoadSettings>(connection)
{
    protected override async Task<int> RunAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        var report = await new LoadTest(grains, console, caller).RunAsync(settings.Definition(), cancellationToken);
        console.Write(Summary(report));
        if (settings.Report is { } path)
        {
            await File.WriteAllTextAsync(path, report.ToJson(), cancellationToken);
            console.MarkupLineInterpolated($"Report written to {path}.");
        }

        if (!report.StatsMatch)
        {
            CliErrors.Line(console, $"Stats check failed: Compute stats differs from the running KPIs: {string.Join("; ", report.StatsDifferences)}.");
            return ExitCodes.Failed;
        }

        return ExitCodes.Ok;
    }

    public static Table Summary(LoadReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Load test")
            .AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned()).AddColumn("Detail");
        table.AddRow("Recipients", Format.Count(r.Recipients), $"{Format.Count(r.ToDeliver)} to deliver, {Format.Count(r.Excluded)} excluded");
        table.AddRow("Prepare time", Format.Seconds(TimeSpan.FromSeconds(r.PrepareSeconds)), "target resolution, exclusions and sending logs");
        table.AddRow("Relay time", r.RelaySeconds is { } relay ? Format.Seconds(TimeSpan.FromSeconds(relay)) : "-",
            r.RelayMessagesPerSecond is { } mps ? $"{Format.Rate(mps)} messages/s, confirmation until sent = to deliver" : "never reached sent = to deliver");
        table.AddRow("Settle time", Format.Seconds(TimeSpan.FromSeconds(r.SettleSeconds)), $"confirmation until settled (R8.8); ended {r.FinalStatus}");
        table.AddRow("Throughput", Format.Rate(r.RecipientsPerSecond), "recipients/s (to deliver / settle time)");
        table.AddRow("Stats check", r.StatsMatch ? "[green]equal[/]" : "[red]differs[/]",
            r.StatsMatch ? "Compute stats equals the running KPIs (R8.7)" : Markup.Escape(string.Join("; ", r.StatsDifferences)));
        table.AddRow("Peak memory", r.MemorySamples > 0 ? Format.Bytes(r.PeakMemoryBytes) : "n/a",
            Markup.Escape(r.MemorySamples > 0
                ? $"{MemoryPeak.Figure}; max of {r.MemorySamples} samples, limit {Format.Bytes(r.MaximumAvailableMemoryBytes)}"
                : $"no sample: {r.MemorySamplingError}"));
        table.AddRow("Peak activations", Format.Count(r.PeakActivations), "all silos");
        table.AddRow("Final KPIs", "", Markup.Escape(
            $"delivered {Format.Count(r.RecountedKpis.Delivered)} ({Format.Percent(r.RecountedKpis.DeliveredRate)}), " +
            $"bounces+errors {Format.Count(r.RecountedKpis.BouncesAndErrors)} ({Format.Percent(r.RecountedKpis.BouncesAndErrorsRate)}), " +
            $"opens {Format.Count(r.RecountedKpis.Opens)}, clicks {Format.Count(r.RecountedKpis.Clicks)}"));
        return table;
    }
}
