using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using Spectre.Console;

namespace DeliveryGrains.Client.Rendering;

/// <summary>The tables the commands print.</summary>
public static class Tables
{
    /// <summary>R2.1: to deliver, then every exclusion reason in the order they are checked.</summary>
    public static Table Preparation(PreparationResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Preparation")
            .AddColumn("").AddColumn(new TableColumn("Recipients").RightAligned());
        table.AddRow(new Markup("[bold]To deliver[/]"), new Markup($"[bold]{Format.Count(result.ToDeliver)}[/]"));
        foreach (var reason in Enum.GetValues<ExclusionReason>())
        {
            table.AddRow($"Excluded: {reason}", Format.Count(result.Excluded.TryGetValue(reason, out var n) ? n : 0));
        }

        table.AddRow("Excluded in all", Format.Count(result.Excluded.Values.Sum()));
        return table;
    }

    public static Table Logs(IEnumerable<SendingLog> logs)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Profile", "Address", "Status", "Failure", "Reason")
            .AddColumn(new TableColumn("Attempts").RightAligned())
            .AddColumns("Relayed", "Last event", "Opened", "Clicked");
        foreach (var log in logs)
        {
            table.AddRow(
                Markup.Escape(log.ProfileId), Markup.Escape(log.Address), log.Status.ToString(),
                log.FailureType?.ToString() ?? "", log.FailureReason?.ToString() ?? "", log.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Instant(log.RelayedAt), Format.Instant(log.LastEventAt), log.Opened ? "yes" : "", log.Clicked ? "yes" : "");
        }

        return table;
    }

    public static Table Exclusions(IEnumerable<ExclusionEntry> exclusions)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Profile", "Address", "Reason");
        foreach (var e in exclusions)
        {
            table.AddRow(Markup.Escape(e.ProfileId), Markup.Escape(e.Address ?? ""), e.Reason.ToString());
        }

        return table;
    }

    public static Table History(string profileId, IEnumerable<ProfileDeliveryEntry> entries)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"History of {Markup.Escape(profileId)}")
            .AddColumns("Delivery", "Name", "Channel", "Log status", "Relayed");
        foreach (var e in entries.OrderBy(e => e.RelayedAt ?? DateTimeOffset.MaxValue))
        {
            table.AddRow(Markup.Escape(e.DeliveryId), Markup.Escape(e.DeliveryName), e.Channel.ToString(), e.Status.ToString(), Format.Instant(e.RelayedAt));
        }

        return table;
    }

    public static Table Address(AddressRecord record, int shard)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        table.ShowHeaders = false;
        table.AddRow("Address", Markup.Escape(record.Address));
        table.AddRow("Status", record.Status.ToString());
        table.AddRow("Error count", record.ErrorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("Last error", Format.Instant(record.LastErrorAt));
        table.AddRow("Reason", record.Reason?.ToString() ?? "-");
        table.AddRow("Excluded at preparation", record.IsExcluded ? "yes" : "no");
        table.AddRow("Shard", shard.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return table;
    }

    /// <summary>The figures that follow the logs (R8.5) side by side: running and recounted.</summary>
    public static Table KpiComparison(Kpis running, Kpis recounted, string leftTitle = "Running", string rightTitle = "Recounted")
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("KPI").AddColumn(new TableColumn(leftTitle).RightAligned()).AddColumn(new TableColumn(rightTitle).RightAligned()).AddColumn("");
        foreach (var (name, left, right) in KpiFigures.Compare(running, recounted))
        {
            table.AddRow(name, left, right, left == right ? "" : "[yellow]differs[/]");
        }

        return table;
    }
}

/// <summary>KPI figures by name, to compare a running and a recounted Deployment block.</summary>
public static class KpiFigures
{
    /// <summary>The figures that follow the logs within the flush period (R8.5); opens and clicks are published on the tracking refresh.</summary>
    public static IEnumerable<(string Name, string Left, string Right)> Compare(Kpis a, Kpis b, bool withTracking = true)
    {
        yield return ("To deliver", Format.Count(a.ToDeliver), Format.Count(b.ToDeliver));
        yield return ("Sent", Format.Count(a.Sent), Format.Count(b.Sent));
        yield return ("Delivered", Format.Count(a.Delivered), Format.Count(b.Delivered));
        yield return ("Delivered %", Format.Percent(a.DeliveredRate), Format.Percent(b.DeliveredRate));
        yield return ("Bounces + errors", Format.Count(a.BouncesAndErrors), Format.Count(b.BouncesAndErrors));
        yield return ("Bounces + errors %", Format.Percent(a.BouncesAndErrorsRate), Format.Percent(b.BouncesAndErrorsRate));
        yield return ("Pending", Format.Count(a.Pending), Format.Count(b.Pending));
        yield return ("Awaiting retry", Format.Count(a.AwaitingRetry), Format.Count(b.AwaitingRetry));
        if (withTracking)
        {
            yield return ("Opens", Format.Count(a.Opens), Format.Count(b.Opens));
            yield return ("Clicks", Format.Count(a.Clicks), Format.Count(b.Clicks));
        }
    }

    /// <summary>True when every figure that follows the logs is equal (opens and clicks are left out, R8.5).</summary>
    public static bool LogFiguresEqual(Kpis a, Kpis b) => Compare(a, b, withTracking: false).All(f => f.Left == f.Right);

    /// <summary>The names of the figures that differ.</summary>
    public static IReadOnlyList<string> Differences(Kpis a, Kpis b, bool withTracking) =>
        Compare(a, b, withTracking).Where(f => f.Left != f.Right).Select(f => $"{f.Name} {f.Left} → {f.Right}").ToList();
}
