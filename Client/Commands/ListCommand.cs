using System.ComponentModel;
using System.Globalization;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class ListSettings : ClientSettings
{
    [CommandOption("--status <STATUS>")]
    [Description("Only deliveries in this status: Draft, Ready, Scheduled, InProgress, Paused, Stopped, Sent, Finished or Failed.")]
    public DeliveryStatus? Status { get; set; }

    [CommandOption("--channel <CHANNEL>")]
    [Description("Only deliveries of this channel: Email or Sms.")]
    public Channel? Channel { get; set; }

    [CommandOption("--search <TEXT>")]
    [Description("Only deliveries whose name holds this text (any case).")]
    public string? Search { get; set; }

    [CommandOption("--limit <COUNT>")]
    [Description("Deliveries per page (1-500).")]
    [DefaultValue(DeliveryListQuery.DefaultLimit)]
    public int Limit { get; set; } = DeliveryListQuery.DefaultLimit;

    [CommandOption("--after <CURSOR>")]
    [Description("Start after this cursor (the 'next' of the previous page).")]
    public string? After { get; set; }

    public override ValidationResult Validate() =>
        Limit is < 1 or > DeliveryListQuery.MaxLimit ? ValidationResult.Error($"--limit must be 1 to {DeliveryListQuery.MaxLimit}.")
        : After is { } after && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? ValidationResult.Error($"--after '{after}' is not a cursor of this list; pass the 'next' value of the previous page.")
        : ValidationResult.Success();
}

/// <summary><c>list</c>: deliveries newest first, filtered, a page at a time (the console's deliveries page).</summary>
public sealed class ListCommand(IGrainFactory grains, IAnsiConsole console, IClusterConnection connection)
    : ClientCommand<ListSettings>(connection)
{
    protected override async Task<int> RunAsync(ListSettings settings, CancellationToken cancellationToken)
    {
        var after = settings.After is { } cursor ? long.Parse(cursor, NumberStyles.None, CultureInfo.InvariantCulture) : (long?)null;
        var page = await grains.GetGrain<IDeliveryListGrain>(0).ListAsync(
            new DeliveryListQuery(settings.Status, settings.Channel, string.IsNullOrWhiteSpace(settings.Search) ? null : settings.Search.Trim(), after, settings.Limit));
        if (settings.Json)
        {
            console.WriteJson(page);
            return ExitCodes.Ok;
        }

        if (page.Items.Count > 0)
        {
            var table = new Table().AddColumns("Id", "Name", "Channel", "Status", "Sent / to deliver", "Delivered %", "Bounces + errors %", "Contact date");
            foreach (var d in page.Items)
            {
                table.AddRow(d.Id, Markup.Escape(d.Name), d.Channel.ToString(), d.Status.ToString(),
                    $"{Format.Count(d.Kpis.Sent)} / {Format.Count(d.Kpis.ToDeliver)}", Format.Percent(d.Kpis.DeliveredRate),
                    Format.Percent(d.Kpis.BouncesAndErrorsRate), Markup.Escape(Format.Instant(d.SendAt)));
            }

            console.Write(table);
        }

        console.MarkupLineInterpolated($"{page.Items.Count} deliveries; next: {page.Next ?? "(end)"}");
        return ExitCodes.Ok;
    }
}
