using System.Globalization;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// What the Deployment block adds to the KPIs for an operator watching a send: the rate (messages
/// sent per second over the last minute), the time left at that rate, the deferrals met so far
/// (R12.3) and the per-domain figures of <c>GET /api/deliveries/{id}/domains</c>. The live feed pushes
/// it as its <c>pace</c> event; the page renders the same on load, and the client's Deployment block
/// (<c>watch</c>, <c>show</c>) computes the same from the grain's view, timeline and domains. In the first minute of sending
/// there is no time left but <see cref="Estimating"/>: a domain's cap lets its minute's messages out
/// in the first seconds and then holds the rest, so the rate so far says nothing of the end yet.
/// </summary>
public sealed record DeploymentPace(double? RatePerSecond, long? SecondsLeft, long Deferred, IReadOnlyList<DomainStats> Domains, bool Estimating = false)
{
    /// <summary>The window of the rate, and the sending a time left waits for.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static DeploymentPace Of(DeliveryView view, IReadOnlyList<TimelinePoint> points, IReadOnlyList<DomainStats> domains, DateTimeOffset now)
    {
        var rate = RateOver(points, view.Kpis.Sent, now) is { } r ? Math.Round(r, 1) : (double?)null;
        var left = view.Kpis.ToDeliver - view.Kpis.Sent;
        var running = view.Status == DeliveryStatus.InProgress && left > 0;
        var sendingSince = view.StartedAt ?? (points.Count > 0 ? points[0].At : null);
        var estimating = running && (sendingSince is not { } since || now - since < Window);
        long? secondsLeft = running && !estimating && rate > 0 ? (long)Math.Ceiling(left / rate.Value) : null;
        return new DeploymentPace(
            view.Status is DeliveryStatus.InProgress or DeliveryStatus.Paused ? rate : null,
            secondsLeft,
            domains.Sum(d => d.Deferrals),
            domains,
            estimating);
    }

    /// <summary>
    /// Messages sent per second over the last minute, from the timeline (a point is taken when the
    /// figures change, so the figures of the latest point at or before the window's start held at
    /// that start) and the sent figure now; over the time since the first point when the delivery
    /// started less than a minute ago. Null before a second of history.
    /// </summary>
    public static double? RateOver(IReadOnlyList<TimelinePoint> points, long sentNow, DateTimeOffset now)
    {
        if (points.Count == 0)
        {
            return null;
        }

        var since = now - Window;
        var from = points[0];
        for (var i = points.Count - 1; i >= 0; i--)
        {
            if (points[i].At <= since)
            {
                from = points[i];
                break;
            }
        }

        var elapsed = from.At <= since ? Window : now - from.At;
        return elapsed < TimeSpan.FromSeconds(1) ? null : Math.Max(sentNow - from.Sent, 0) / elapsed.TotalSeconds;
    }

    /// <summary>What the time left reads in the first minute of sending (console.js writes the same).</summary>
    public const string EstimatingText = "estimating…";

    /// <summary>The rate as the block shows it: "1,234.5/s", "0.2/s", "—".</summary>
    public static string Rate(double? perSecond) =>
        perSecond is { } r ? r.ToString(r >= 100 ? "N0" : "N1", CultureInfo.InvariantCulture) + "/s" : "—";

    /// <summary>The time left as the block shows it: "2 h 05 min", "3 min 20 s", "45 s", "estimating…" in the first minute, "—".</summary>
    public static string TimeLeft(long? seconds, bool estimating = false) => seconds switch
    {
        null => estimating ? EstimatingText : "—",
        >= 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600} h {seconds % 3600 / 60:00} min"),
        >= 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60} min {seconds % 60:00} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds} s"),
    };
}
