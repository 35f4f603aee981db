using System.Globalization;
using System.ComponentModel;
using DeliveryGrains.Addresses;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Profiles;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class LogsSettings : DeliverySettings, IListSettings
{
    [CommandOption("--csv")]
    [Description("Write the logs as CSV for scripts (a header line, instants in ISO 8601).")]
    public bool Csv { get; set; }

    public const int MaxLimit = 1000;

    [CommandOption("--status <STATUS>")]
    [Description("Only logs in this status: ToDeliver, Pending, Sent or Failed.")]
    public LogStatus? Status { get; set; }

    [CommandOption("--limit <COUNT>")]
    [Description("Logs per page (1-1000).")]
    [DefaultValue(50)]
    public int Limit { get; set; } = 50;

    [CommandOption("--after <CURSOR>")]
    [Description("Start after this cursor (the 'next' of the previous page).")]
    public string? After { get; set; }

    [CommandOption("--all")]
    [Description("Follow the cursor to the end, a page at a time.")]
    public bool All { get; set; }

    public override ValidationResult Validate()
    {
        var basic = base.Validate();
        return !basic.Successful ? basic
            : Limit is < 1 or > MaxLimit ? ValidationResult.Error($"--limit must be 1 to {MaxLimit}.")
            : ListSettingsChecks.Check(this);
    }
}

/// <summary><c>logs ID</c>: sending logs a page at a time, with the cursor of the next page.</summary>
public sealed class LogsCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<LogsSettings>(connection)
{
    protected override async Task<int> RunAsync(LogsSettings settings, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IDeliveryGrain>(settings.Id);
        var cursor = settings.After;
        var total = 0;
        var all = new List<SendingLog>();
        var scripted = settings.Json || settings.Csv;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await grain.ListLogsAsync(new LogQuery(settings.Status, cursor, settings.Limit), caller);
            total += page.Items.Count;
            cursor = page.Next;
            if (scripted)
            {
                all.AddRange(page.Items);
                continue;
            }

            if (page.Items.Count > 0)
            {
                Tables.Logs(page.Items).Write(console);
            }

            console.WriteUnwrappedLine(cursor is null
                ? $"{page.Items.Count} logs; that is the last page."
                : $"{page.Items.Count} logs; next page: {NextSteps.Command("logs", $"{settings.Id} --after {cursor}")}, or --all for every page.");
        }
        while (settings.All && cursor is not null);

        if (settings.Json)
        {
            console.WriteJson(new LogPage(all, cursor));
        }
        else if (settings.Csv)
        {
            console.WriteCsv(Tables.Logs(all, raw: true));
        }
        else if (settings.All)
        {
            console.WriteUnwrappedLine($"{total} logs in all.");
        }

        return ExitCodes.Ok;
    }
}

public sealed class ExclusionsSettings : DeliverySettings, IListSettings
{
    [CommandOption("--csv")]
    [Description("Write the exclusions as CSV for scripts (every one).")]
    public bool Csv { get; set; }

    [CommandOption("--limit <COUNT>")]
    [Description("Rows to list (the counts by reason cover all).")]
    [DefaultValue(100)]
    public int Limit { get; set; } = 100;

    [CommandOption("--all")]
    [Description("List every exclusion.")]
    public bool All { get; set; }

    public override ValidationResult Validate()
    {
        var basic = base.Validate();
        return !basic.Successful ? basic
            : Limit < 1 ? ValidationResult.Error("--limit must be at least 1.")
            : ListSettingsChecks.Check(this);
    }
}

public sealed class ExecutionsSettings : DeliverySettings, IListSettings
{
    [CommandOption("--csv")]
    [Description("Write the executions as CSV for scripts.")]
    public bool Csv { get; set; }

    public override ValidationResult Validate()
    {
        var basic = base.Validate();
        return basic.Successful ? ListSettingsChecks.Check(this) : basic;
    }
}

/// <summary><c>executions ID</c>: the runs of a recurring delivery, or its aggregation periods (R3.3, R3.4).</summary>
public sealed class ExecutionsCommand(IGrainFactory grains, IAnsiConsole console, IClusterConnection connection)
    : ClientCommand<ExecutionsSettings>(connection)
{
    protected override async Task<int> RunAsync(ExecutionsSettings settings, CancellationToken cancellationToken)
    {
        var executions = await grains.GetGrain<IDeliveryGrain>(settings.Id).ListExecutionsAsync();
        if (settings.Json)
        {
            console.WriteJson(executions);
            return ExitCodes.Ok;
        }

        if (settings.Csv)
        {
            console.WriteCsv(Tables.Executions(executions, raw: true));
            return ExitCodes.Ok;
        }

        Tables.Executions(executions).Write(console);
        var view = await grains.GetGrain<IDeliveryGrain>(settings.Id).GetViewAsync();
        console.WriteUnwrappedLine($"{executions.Count} execution{(executions.Count == 1 ? "" : "s")}. {NextSteps.WaitingFor(view, executions, DateTimeOffset.UtcNow)}");
        return ExitCodes.Ok;
    }
}

/// <summary><c>exclusions ID</c>: who was left out at preparation, and why (R2.1).</summary>
public sealed class ExclusionsCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<ExclusionsSettings>(connection)
{
    protected override async Task<int> RunAsync(ExclusionsSettings settings, CancellationToken cancellationToken)
    {
        var exclusions = await grains.GetGrain<IDeliveryGrain>(settings.Id).ListExclusionsAsync(caller);
        if (settings.Json)
        {
            console.WriteJson(exclusions);
            return ExitCodes.Ok;
        }

        if (settings.Csv)
        {
            console.WriteCsv(Tables.Exclusions(exclusions));
            return ExitCodes.Ok;
        }

        var shown = settings.All ? exclusions : exclusions.Take(settings.Limit).ToList();
        if (shown.Count > 0)
        {
            Tables.Exclusions(shown).Write(console);
        }

        var byReason = exclusions.GroupBy(e => e.Reason).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        console.MarkupLineInterpolated($"{exclusions.Count} excluded{(exclusions.Count > 0 ? ": " + string.Join(", ", byReason) : "")}.");
        if (shown.Count < exclusions.Count)
        {
            console.MarkupLineInterpolated($"[grey]Listed the first {shown.Count}; add --all for every one.[/]");
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>stats ID</c>: Compute stats (R8.7), shown beside the running figures it replaces.</summary>
public sealed class StatsCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<DeliverySettings>(connection)
{
    protected override async Task<int> RunAsync(DeliverySettings settings, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IDeliveryGrain>(settings.Id);
        var view = await grain.GetViewAsync();
        var running = view.Kpis;
        var recounted = await grain.ComputeStatsAsync(caller);
        var changes = KpiVerdict.Changes(running, recounted);
        var verdict = KpiVerdict.Describe(changes, settled: running.Settled || view.Status is DeliveryStatus.Finished or DeliveryStatus.Stopped or DeliveryStatus.Failed);
        if (settings.Json)
        {
            console.WriteJson(new
            {
                running,
                recounted,
                changes = changes.Select(c => new { kpi = c.Name, running = c.Before, recounted = c.After, difference = c.Difference }),
                verdict,
            });
            return ExitCodes.Ok;
        }

        console.Write(Tables.KpiComparison(running, recounted));
        console.WriteUnwrappedLine(verdict, new Style(changes.Count == 0 ? Color.Green : Color.Yellow));
        return ExitCodes.Ok;
    }
}

public sealed class HistorySettings : ClientSettings, IListSettings
{
    [CommandOption("--csv")]
    [Description("Write the history as CSV for scripts.")]
    public bool Csv { get; set; }

    public override ValidationResult Validate() => ListSettingsChecks.Check(this);

    [CommandArgument(0, "<PROFILE>")]
    [Description("The profile id.")]
    public string Profile { get; set; } = "";
}

/// <summary><c>history PROFILE</c>: every delivery sent to a profile, with its log status (R10.1).</summary>
public sealed class HistoryCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<HistorySettings>(connection)
{
    protected override async Task<int> RunAsync(HistorySettings settings, CancellationToken cancellationToken)
    {
        RoleChecks.RequireReader(caller, "Reading a profile's history");
        var entries = await grains.GetGrain<IProfileHistoryGrain>(settings.Profile).GetHistoryAsync();
        if (settings.Json)
        {
            console.WriteJson(entries);
            return ExitCodes.Ok;
        }

        if (settings.Csv)
        {
            console.WriteCsv(Tables.History(entries, raw: true));
            return ExitCodes.Ok;
        }

        if (entries.Count == 0)
        {
            console.MarkupLineInterpolated($"No delivery was sent to profile {settings.Profile}.");
            return ExitCodes.Ok;
        }

        console.WriteUnwrappedLine($"History of {settings.Profile}:");
        Tables.History(entries).Write(console);
        return ExitCodes.Ok;
    }
}

public sealed class AddressSettings : ClientSettings
{
    [CommandArgument(0, "<ADDRESS>")]
    [Description("An email address or an E.164 phone number.")]
    public string Address { get; set; } = "";

    /// <summary>Text rather than <see cref="Deliveries.Channel"/>, so that "not given" (guess from the address) and a bad value are both told apart.</summary>
    [CommandOption("--channel <CHANNEL>")]
    [Description("Email or Sms: how the address is normalized (default: Sms when it starts with '+', else Email).")]
    public string? ChannelName { get; set; }

    /// <summary>The channel given, or the one the address itself suggests.</summary>
    public Channel EffectiveChannel => ParseChannel(ChannelName) ?? AddressSyntax.ChannelOf(Address);

    /// <summary>The address in the normal form the quarantine keys it by (R2.2: email domain lower-cased).</summary>
    public string Normalized => AddressSyntax.Normalize(Address, EffectiveChannel);

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Address) ? ValidationResult.Error("Give an email address or an E.164 phone number.")
        : ChannelName is not null && ParseChannel(ChannelName) is null ? ValidationResult.Error($"--channel must be {string.Join(" or ", Enum.GetNames<Channel>())}, not '{ChannelName}'.")
        : ValidationResult.Success();

    private static Channel? ParseChannel(string? name) =>
        name is not null && !name.Any(char.IsAsciiDigit) && Enum.TryParse<Channel>(name, ignoreCase: true, out var channel) && Enum.IsDefined(channel)
            ? channel
            : null;
}

/// <summary><c>address ADDRESS</c>: its quarantine status (R9).</summary>
public sealed class AddressCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<AddressSettings>(connection)
{
    protected override async Task<int> RunAsync(AddressSettings settings, CancellationToken cancellationToken)
    {
        RoleChecks.RequireReader(caller, "Reading an address's status");
        var normalized = settings.Normalized;
        var shard = AddressBook.ShardOf(normalized);
        var record = await grains.GetGrain<IAddressBookGrain>(shard).GetAsync(normalized);
        if (settings.Json)
        {
            console.WriteJson(record);
            return ExitCodes.Ok;
        }

        console.Write(Tables.Address(record));
        if (!AddressSyntax.IsValid(normalized, settings.EffectiveChannel))
        {
            console.MarkupLineInterpolated($"[yellow]'{normalized}' is not a valid {settings.EffectiveChannel} address; preparation excludes it as InvalidAddress.[/]");
        }

        return ExitCodes.Ok;
    }
}

/// <summary>
/// <c>release-address ADDRESS</c>: R9.6, an administrator releases an address from quarantine or
/// the denylist; it becomes Valid with no errors and later preparations include it again.
/// </summary>
public sealed class ReleaseAddressCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<AddressSettings>(connection)
{
    protected override async Task<int> RunAsync(AddressSettings settings, CancellationToken cancellationToken)
    {
        if (!caller.Holds(Roles.Administration))
        {
            throw new MissingRoleException(Roles.Administration, "Releasing an address");
        }

        var normalized = settings.Normalized;
        var shard = AddressBook.ShardOf(normalized);
        var book = grains.GetGrain<IAddressBookGrain>(shard);
        var before = await book.GetAsync(normalized);
        var after = await book.ReleaseAsync(normalized);
        if (settings.Json)
        {
            console.WriteJson(after);
            return ExitCodes.Ok;
        }

        console.Write(Tables.Address(after));
        if (before == AddressRecord.ValidAddress(normalized))
        {
            console.MarkupLineInterpolated($"{normalized} has no quarantine history; nothing to release.");
        }
        else
        {
            console.MarkupLineInterpolated($"Released {normalized}: {before.Status} → {after.Status}; later preparations include it again.");
        }

        return ExitCodes.Ok;
    }
}

/// <summary>Profiles and addresses are read by Administration or PrepareDeliveries users (API.md).</summary>
internal static class RoleChecks
{
    public static void RequireReader(Caller caller, string action)
    {
        if (!caller.Holds(Roles.Administration) && !caller.Holds(Roles.PrepareDeliveries))
        {
            throw new MissingRoleException(Roles.Administration, action);
        }
    }
}
