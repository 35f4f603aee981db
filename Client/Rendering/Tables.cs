using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using Spectre.Console;

namespace DeliveryGrains.Client.Rendering;

/// <summary>The tables the commands print.</summary>
public static class Tables
{
    /// <summary>R2.1: to deliver, then every exclusion reason in the order they are checked.</summary>
    public static Table Preparation(PreparationResult result, bool template = false)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(template ? "Preparation check (recurring)" : "Preparation")
            .AddColumn("").AddColumn(new TableColumn("Recipients").RightAligned());
        table.AddRow(new Markup("[bold]To deliver[/]"), new Markup($"[bold]{Format.Count(result.ToDeliver)}[/]"));
        foreach (var reason in Enum.GetValues<ExclusionReason>())
        {
            table.AddRow($"Excluded: {reason}", Format.Count(result.Excluded.TryGetValue(reason, out var n) ? n : 0));
        }

        table.AddRow("Excluded in all", Format.Count(result.Excluded.Values.Sum()));
        return table;
    }

    /// <summary>An instant for people (local, with its zone) or for scripts (ISO 8601, as the API writes it).</summary>
    private static string When(DateTimeOffset? at, bool raw) =>
        raw ? at?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "" : Format.Instant(at);

    private static string Number(long value, bool raw) => raw ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Format.Count(value);

    private static string Rate(double value, bool raw) => raw ? value.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : Format.Percent(value);

    /// <summary>Sending logs; <paramref name="raw"/> for CSV: instants in ISO 8601, flags as true/false.</summary>
    public static Listing Logs(IEnumerable<SendingLog> logs, bool raw = false)
    {
        var listing = new Listing("Profile", "Address", "Status", "Failure", "Reason", "Attempts", "Relayed", "Last event", "Opened", "Clicked")
            .Whole(0, 1).RightAligned(5);
        foreach (var log in logs)
        {
            listing.Add(
                log.ProfileId, log.Address, log.Status.ToString(),
                log.FailureType?.ToString() ?? "", log.FailureReason?.ToString() ?? "", log.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                When(log.RelayedAt, raw), When(log.LastEventAt, raw),
                raw ? (log.Opened ? "true" : "false") : log.Opened ? "yes" : "", raw ? (log.Clicked ? "true" : "false") : log.Clicked ? "yes" : "");
        }

        return listing;
    }

    public static Listing Exclusions(IEnumerable<ExclusionEntry> exclusions)
    {
        var listing = new Listing("Profile", "Address", "Reason").Whole(0, 1);
        foreach (var e in exclusions)
        {
            listing.Add(e.ProfileId, e.Address ?? "", e.Reason.ToString());
        }

        return listing;
    }

    public static Listing History(IEnumerable<ProfileDeliveryEntry> entries, bool raw = false)
    {
        var listing = new Listing("Delivery", "Name", "Channel", "Log status", "Relayed").Whole(0);
        foreach (var e in entries.OrderBy(e => e.RelayedAt ?? DateTimeOffset.MaxValue))
        {
            listing.Add(e.DeliveryId, e.DeliveryName, e.Channel.ToString(), e.Status.ToString(), When(e.RelayedAt, raw));
        }

        return listing;
    }

    public static Listing Executions(IEnumerable<Execution> executions, bool raw = false)
    {
        var listing = new Listing("Execution", "Period", "Status", "Runs", "To deliver", "Sent", "Delivered %", "Bounces + errors %")
            .Whole(0).RightAligned(3, 4, 5, 6, 7);
        foreach (var e in executions)
        {
            var period = !raw && DateTimeOffset.TryParse(e.Period, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var at)
                ? Format.Instant(at)
                : e.Period;
            listing.Add(e.Id, period, e.Status.ToString(), e.Runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Number(e.Kpis.ToDeliver, raw), Number(e.Kpis.Sent, raw), Rate(e.Kpis.DeliveredRate, raw), Rate(e.Kpis.BouncesAndErrorsRate, raw));
        }

        return listing;
    }

    public static Table Address(AddressRecord record)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        table.ShowHeaders = false;
        table.AddRow("Address", Markup.Escape(record.Address));
        table.AddRow("Status", record.Status.ToString());
        table.AddRow("Error count", record.ErrorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("Last error", Format.Instant(record.LastErrorAt));
        table.AddRow("Reason", record.Reason?.ToString() ?? "-");
        table.AddRow("Excluded at preparation", record.IsExcluded ? "yes" : "no");
        return table;
    }

    /// <summary>Every KPI side by side, running and recounted, with what the recount changed.</summary>
    public static Table KpiComparison(Kpis running, Kpis recounted, string leftTitle = "Running", string rightTitle = "Recounted")
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("KPI").AddColumn(new TableColumn(leftTitle).RightAligned()).AddColumn(new TableColumn(rightTitle).RightAligned())
            .AddColumn(new TableColumn("Change").RightAligned());
        var changes = KpiVerdict.Changes(running, recounted).ToDictionary(c => c.Name);
        foreach (var (name, left, right) in KpiFigures.Compare(running, recounted))
        {
            var change = changes.TryGetValue(name, out var c) ? Markup.Escape(c.Signed) : left == right ? "" : "recomputed";
            table.AddRow(Markup.Escape(name), left, right, change.Length == 0 ? "" : $"[yellow]{change}[/]");
        }

        return table;
    }
}

/// <summary>What a recount (Compute stats, R8.7) changed in the running KPIs: one verdict, with the reason.</summary>
public sealed record KpiChange(string Name, long Before, long After, bool Tracking)
{
    public long Difference => After - Before;

    public string Signed => Difference > 0 ? "+" + Format.Count(Difference) : "−" + Format.Count(-Difference);

    public override string ToString() => $"{Name} {Format.Count(Before)} → {Format.Count(After)} ({Signed})";
}

public static class KpiVerdict
{
    public static IReadOnlyList<KpiChange> Changes(Kpis running, Kpis recounted)
    {
        (string Name, long Before, long After, bool Tracking)[] counts =
        [
            ("To deliver", running.ToDeliver, recounted.ToDeliver, false),
            ("Sent", running.Sent, recounted.Sent, false),
            ("Delivered", running.Delivered, recounted.Delivered, false),
            ("Bounces + errors", running.BouncesAndErrors, recounted.BouncesAndErrors, false),
            ("Pending", running.Pending, recounted.Pending, false),
            ("Awaiting retry", running.AwaitingRetry, recounted.AwaitingRetry, false),
            ("Opens", running.Opens, recounted.Opens, true),
            ("Clicks", running.Clicks, recounted.Clicks, true),
        ];
        return [.. counts.Where(c => c.Before != c.After).Select(c => new KpiChange(c.Name, c.Before, c.After, c.Tracking))];
    }

    /// <summary>
    /// One sentence: equal, or which KPIs changed, by how much and why. Opens and clicks are
    /// published on the tracking refresh period (R8.5), so a recount that publishes them early is
    /// not drift; the other figures follow the logs within the flush period, so a change there on a
    /// delivery that has stopped moving is drift the recount repaired.
    /// </summary>
    public static string Describe(IReadOnlyList<KpiChange> changes, bool settled)
    {
        if (changes.Count == 0)
        {
            return "The recount equals the running KPIs: nothing to repair.";
        }

        var tracking = changes.Where(c => c.Tracking).ToList();
        var logs = changes.Where(c => !c.Tracking).ToList();
        var parts = new List<string>();
        if (logs.Count > 0)
        {
            parts.Add(settled
                ? $"The recount repaired drift in the running KPIs: {string.Join(", ", logs)}."
                : $"The recount changed {string.Join(", ", logs)}: the running KPIs follow the logs within the flush period (at most 2 s) and the delivery is still moving, so they had not caught up yet.");
        }

        if (tracking.Count > 0)
        {
            parts.Add($"{(logs.Count == 0 ? "Only opens and clicks changed" : "Opens and clicks changed")}: {string.Join(", ", tracking)}. They are published on the silo's tracking refresh period (default 1 h); the recount published them now.");
        }

        return string.Join(" ", parts);
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
