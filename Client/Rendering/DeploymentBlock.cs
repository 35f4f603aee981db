using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DeliveryGrains.Client.Rendering;

/// <summary>
/// The Deployment block of a delivery (R8): a header, a progress bar of sent / to deliver and the
/// KPI table. Shared by the client's commands and the silo's demo mode.
/// </summary>
public static class DeploymentBlock
{
    private const int BarWidth = 40;

    /// <summary>Reads the delivery's view once and writes its block.</summary>
    public static async Task<DeliveryView> ShowAsync(IGrainFactory grains, IAnsiConsole console, string deliveryId)
    {
        var view = await grains.GetGrain<IDeliveryGrain>(deliveryId).GetViewAsync();
        console.Write(Render(view));
        return view;
    }

    /// <summary>
    /// The rate, time left and deferrals of a started delivery, as the console's Deployment block computes them
    /// (<see cref="DeploymentPace"/>) from the view, the timeline and the domains; null before the send starts.
    /// </summary>
    public static async Task<DeploymentPace?> PaceAsync(IDeliveryGrain grain, DeliveryView view, DateTimeOffset now, IReadOnlyList<DomainStats>? domains = null)
    {
        if (view.Status is DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled || view.Recurrence is not null)
        {
            return null;
        }

        var timeline = await grain.GetTimelineAsync();
        return DeploymentPace.Of(view, timeline.Points, domains ?? await grain.GetDomainsAsync(), now);
    }

    public static IRenderable Render(DeliveryView view, DeploymentPace? pace = null) => new Rows(Header(view), ProgressBar(view.Kpis), KpiTable(view, pace));

    public static IRenderable Header(DeliveryView view) => new Markup(
        $"[bold]{Markup.Escape(view.Name)}[/] [grey]{Markup.Escape(view.Id)}[/] · {view.Channel} · " +
        $"{(view.EmailFeedbackService ? "with EFS" : "without EFS")} · [{StatusColor(view.Status)}]{view.Status}[/]" +
        (view.ValidUntil is { } until ? $" · valid until {Format.Instant(until)}" : ""));

    /// <summary>Sent / to deliver as a bar of <see cref="BarWidth"/> cells.</summary>
    public static IRenderable ProgressBar(Kpis kpis)
    {
        var progress = Math.Clamp(kpis.Progress, 0, 1);
        var filled = (int)Math.Round(progress * BarWidth);
        return new Markup(
            $"[green]{new string('━', filled)}[/][grey]{new string('━', BarWidth - filled)}[/] " +
            $"{Format.Percent(progress * 100)} sent ({Format.Count(kpis.Sent)} / {Format.Count(kpis.ToDeliver)})");
    }

    public static Table KpiTable(DeliveryView view, DeploymentPace? pace = null)
    {
        var k = view.Kpis;
        var tracked = view.Channel == Channel.Email;
        var table = new Table().Border(TableBorder.Rounded).Title("Deployment")
            .AddColumn("KPI").AddColumn(new TableColumn("Count").RightAligned()).AddColumn(new TableColumn("Rate").RightAligned());
        table.AddRow("To deliver", Format.Count(k.ToDeliver), "");
        table.AddRow("Sent", Format.Count(k.Sent), Format.Percent(k.Progress * 100));
        table.AddRow("Delivered", Format.Count(k.Delivered), Format.Percent(k.DeliveredRate));
        table.AddRow("Bounces + errors", Format.Count(k.BouncesAndErrors), Format.Percent(k.BouncesAndErrorsRate));
        table.AddRow("Opens", tracked ? Format.Count(k.Opens) : "n/a", tracked ? Format.Percent(k.OpenRate) + " open rate" : "");
        table.AddRow("Clicks", tracked ? Format.Count(k.Clicks) : "n/a", tracked ? Format.Percent(k.ClickThroughRate) + " CTR" : "");
        table.AddRow("Pending", Format.Count(k.Pending), "");
        table.AddRow("Awaiting retry", Format.Count(k.AwaitingRetry), "");
        if (tracked)
        {
            // R13.4, R13.5: recipients who asked for no more, and who reported spam.
            table.AddRow("Unsubscriptions", Format.Count(k.Unsubscriptions), "");
            table.AddRow("Complaints", Format.Count(k.Complaints), "");
        }

        if (pace is not null)
        {
            table.AddRow("Rate", DeploymentPace.Rate(pace.RatePerSecond), "last minute");
            table.AddRow("Time left", DeploymentPace.TimeLeft(pace.SecondsLeft, pace.Estimating), "");
            table.AddRow("Deferred", Format.Count(pace.Deferred), "");
        }

        table.AddRow(new Text("Status"), new Markup($"[{StatusColor(view.Status)}]{view.Status}[/]"), new Text(k.Settled && view.Status != DeliveryStatus.Draft ? "settled" : ""));
        return table;
    }

    /// <summary>The block as one plain line, for output that is not a terminal.</summary>
    public static string Summary(DeliveryView view, DeploymentPace? pace = null)
    {
        var k = view.Kpis;
        var tracking = view.Channel == Channel.Email
            ? $" | opens {Format.Count(k.Opens)} ({Format.Percent(k.OpenRate)}) | clicks {Format.Count(k.Clicks)} ({Format.Percent(k.ClickThroughRate)} CTR)"
              + $" | unsubscriptions {Format.Count(k.Unsubscriptions)} | complaints {Format.Count(k.Complaints)}"
            : "";
        return $"{view.Status} | sent {Format.Count(k.Sent)}/{Format.Count(k.ToDeliver)} ({Format.Percent(k.Progress * 100)})" +
               $" | delivered {Format.Count(k.Delivered)} ({Format.Percent(k.DeliveredRate)})" +
               $" | bounces+errors {Format.Count(k.BouncesAndErrors)} ({Format.Percent(k.BouncesAndErrorsRate)})" +
               tracking +
               $" | pending {Format.Count(k.Pending)} | awaiting retry {Format.Count(k.AwaitingRetry)}" +
               (pace is null ? "" : $" | rate {DeploymentPace.Rate(pace.RatePerSecond)} | time left {DeploymentPace.TimeLeft(pace.SecondsLeft, pace.Estimating)} | deferred {Format.Count(pace.Deferred)}");
    }

    public static string StatusColor(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Finished or DeliveryStatus.Sent => "green",
        DeliveryStatus.InProgress or DeliveryStatus.Scheduled => "blue",
        DeliveryStatus.Paused or DeliveryStatus.Ready => "yellow",
        DeliveryStatus.Stopped or DeliveryStatus.Failed => "red",
        _ => "grey",
    };
}
