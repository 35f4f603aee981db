using System.Globalization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Rendering;

/// <summary>
/// What happens next to a delivery and what, if anything, the user must do: the run waiting in
/// Ready for its confirmation, the contact date, the retries and the end of the validity period.
/// </summary>
public static class NextSteps
{
    /// <summary>The command a user types, e.g. <c>delivery confirm 1f2e…-r0</c>.</summary>
    public static string Command(string verb, string id) => $"'{DeliveryCli.ApplicationName} {verb} {id}'";

    /// <summary>
    /// One sentence on what the delivery is waiting for. <paramref name="relative"/> adds "(in 3 min)"
    /// to instants, for output read once; a watch printing lines leaves it out so a line changes only
    /// when the delivery does.
    /// </summary>
    public static string WaitingFor(DeliveryView view, IReadOnlyList<Execution>? runs, DateTimeOffset now, bool relative = true)
    {
        string At(DateTimeOffset at) => relative ? $"{Format.Instant(at)} ({Format.Relative(at, now)})" : Format.Instant(at);
        var k = view.Kpis;
        if (view.Recurrence is { } recurrence)
        {
            return Recurring(view, recurrence, runs ?? [], now, relative);
        }

        return view.Status switch
        {
            DeliveryStatus.Draft => $"Waiting to be prepared: {Command("prepare", view.Id)}.",
            DeliveryStatus.Ready => $"Prepared and waiting for its confirmation: {Command("confirm", view.Id)} (needs StartDeliveries).",
            DeliveryStatus.Scheduled when view.SendAt is { } sendAt => $"Scheduled: relaying starts at the contact date, {At(sendAt)}; nothing more to do.",
            DeliveryStatus.Paused => $"Paused: nothing is relayed or retried until {Command("resume", view.Id)}{Until(view, At)}.",
            DeliveryStatus.Stopped => "Stopped for good: nothing more is relayed or retried.",
            DeliveryStatus.Failed => "Failed: the delivery itself could not run.",
            DeliveryStatus.Finished => "Finished: the validity period is over and these KPIs are final.",
            _ when k.Sent < k.ToDeliver => $"Relaying: {Format.Count(k.Sent)} of {Format.Count(k.ToDeliver)} sent{Until(view, At)}.",
            _ when k.AwaitingRetry > 0 || k.Pending > 0 => string.Join("; ", new[]
                {
                    k.AwaitingRetry > 0 ? $"{Format.Count(k.AwaitingRetry)} soft-bounced message{Plural(k.AwaitingRetry)} retried {Format.Duration(view.RetryPeriod)} after each bounce (at most {view.MaxRetries} retries)" : null,
                    k.Pending > 0 ? $"{Format.Count(k.Pending)} message{Plural(k.Pending)} waiting for the MTA's outcome" : null,
                }.Where(p => p is not null)) + Until(view, At) + ".",
            _ => $"Settled: every message has its outcome{Until(view, At, "; the delivery is Finished when the validity period ends at ")}. " +
                 (view.Channel == Channel.Email ? "Opens and clicks are published on the silo's tracking refresh period (default 1 h)." : ""),
        };
    }

    private static string Recurring(DeliveryView view, Recurrence recurrence, IReadOnlyList<Execution> runs, DateTimeOffset now, bool relative)
    {
        string At(DateTimeOffset at) => relative ? $"{Format.Instant(at)} ({Format.Relative(at, now)})" : Format.Instant(at);
        var schedule = $"{recurrence.Count} run{Plural(recurrence.Count)}, one every {Format.Duration(recurrence.Every)}";
        switch (view.Status)
        {
            case DeliveryStatus.Draft:
                return $"Recurring ({schedule}): waiting to be prepared, {Command("prepare", view.Id)}.";
            case DeliveryStatus.Ready:
                return $"Recurring ({schedule}): waiting for {Command("confirm", view.Id)} to start its schedule" +
                       (view.SendAt is { } first ? $"; the first run is at {At(first)}." : "; the first run starts at confirmation.");
            case DeliveryStatus.InProgress:
                break;
            default:
                return $"Recurring ({schedule}): {view.Status}.";
        }

        var parts = new List<string>();
        var waiting = runs.Where(r => r.Status == DeliveryStatus.Ready && r.Runs.Count == 1).Select(r => r.Id).ToList();
        foreach (var run in waiting)
        {
            parts.Add($"run {run} is prepared and waits in Ready for {Command("confirm", run)}");
        }

        var made = recurrence.AggregationPeriod is null ? runs.Count : runs.Sum(r => r.Runs.Count);
        if (made < recurrence.Count)
        {
            var next = NextRunAt(view, recurrence, runs, now);
            var nextId = $"{view.Id}-r{made}";
            var asks = recurrence.AggregationPeriod is null && view.RequestConfirmation;
            parts.Add(next is { } at
                ? $"the next run, {nextId}, starts at {At(at)}{(asks ? $" and will wait in Ready for {Command("confirm", nextId)}" : " and sends by itself")}"
                : $"the next run, {nextId}, starts within {Format.Duration(recurrence.Every)}{(asks ? $" and will wait in Ready for {Command("confirm", nextId)}" : " and sends by itself")}");
        }
        else
        {
            parts.Add("every run has started; the delivery is Finished when the last one finishes");
        }

        return $"Recurring ({made} of {schedule}): {string.Join("; ", parts)}. {Command("executions", view.Id)} lists the runs.";
    }

    /// <summary>When the next run of a template starts: after the last run made, or at the contact date before the first.</summary>
    public static DateTimeOffset? NextRunAt(DeliveryView view, Recurrence recurrence, IReadOnlyList<Execution> runs, DateTimeOffset now)
    {
        if (recurrence.AggregationPeriod is null && runs.Count > 0
            && DateTimeOffset.TryParse(runs[^1].Period, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var last))
        {
            return last + recurrence.Every;
        }

        return runs.Count == 0 ? (view.SendAt is { } sendAt && sendAt > now ? sendAt : now) : null;
    }

    private static string Until(DeliveryView view, Func<DateTimeOffset, string> at, string prefix = "; the validity period ends at ") =>
        view.ValidUntil is { } until ? prefix + at(until) : "";

    private static string Plural(long count) => count == 1 ? "" : "s";
}
