using DeliveryGrains.Deliveries;
using Spectre.Console;

namespace DeliveryGrains.Client.Rendering;

/// <summary>The per-domain view of a delivery (R12.3, R12.5): counts, deferrals and the rate cap the relay applies now.</summary>
public static class DomainTable
{
    public static Table Render(IReadOnlyList<DomainStats> domains)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Domains").AddColumn("Domain");
        foreach (var name in new[] { "To deliver", "Sent", "Delivered", "Bounces + errors", "Deferrals", "Rate cap / min" })
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        foreach (var d in domains)
        {
            table.AddRow(
                Markup.Escape(d.Domain), Format.Count(d.ToDeliver), Format.Count(d.Sent), Format.Count(d.Delivered),
                Format.Count(d.BouncesAndErrors), Format.Count(d.Deferrals), d.RateCapPerMinute is { } cap ? Format.Count(cap) : "—");
        }

        return table;
    }
}
