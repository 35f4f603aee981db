using System.Diagnostics;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DeliveryGrains.Client.Load;

/// <summary>
/// The live display of a load run: per delivery sent / to deliver, pending, awaiting retry and the
/// time since confirmation; below it the totals, the silos' resident set and the view reads so far.
/// </summary>
public sealed class LoadProgress(IReadOnlyList<LoadRun> runs, SiloMetricsSampler metrics, ViewLatency latency, Stopwatch clock)
{
    private const int BarWidth = 20;

    /// <summary>The console's width: below 110 columns the rows show no bar, so that a table row fits on one line.</summary>
    public int Width { get; init; } = 80;

    public IRenderable Render()
    {
        var now = clock.Elapsed;
        var table = new Table().Border(TableBorder.Rounded).Title($"Load test · {Format.Seconds(now)}")
            .AddColumn("Delivery").AddColumn("Status").AddColumn(new TableColumn("Sent / to deliver").NoWrap())
            .AddColumn(new TableColumn("Pending").RightAligned())
            .AddColumn(new TableColumn("Awaiting retry").RightAligned())
            .AddColumn(new TableColumn("Elapsed").RightAligned());
        foreach (var run in runs)
        {
            var view = run.LastView;
            table.AddRow(
                new Text(run.Id[..Math.Min(8, run.Id.Length)]),
                view is null ? new Text("-")
                    : run.SettledAt is null ? new Markup($"[{DeploymentBlock.StatusColor(view.Status)}]{view.Status}[/]")
                    : new Markup("[green]settled[/]"),
                view is null ? new Text("-") : Bar(view.Kpis),
                new Text(view is null ? "-" : Format.Count(view.Kpis.Pending)),
                new Text(view is null ? "-" : Format.Count(view.Kpis.AwaitingRetry)),
                new Text(Format.Seconds(run.Elapsed(now))));
        }

        if (runs.Count > 1)
        {
            var total = Total();
            table.AddRow(new Markup("[bold]all[/]"), new Text($"{runs.Count(r => r.SettledAt is not null)}/{runs.Count} settled"), Bar(total),
                new Text(Format.Count(total.Pending)), new Text(Format.Count(total.AwaitingRetry)), new Text(Format.Seconds(now)));
        }

        return new Rows(table, new Text(Footer()));
    }

    /// <summary>The display as one plain line, for output that is not a terminal.</summary>
    public string Line()
    {
        var total = Total();
        return $"{Format.Seconds(clock.Elapsed)} | {runs.Count(r => r.SettledAt is not null)}/{runs.Count} settled" +
               $" | sent {Format.Count(total.Sent)}/{Format.Count(total.ToDeliver)} ({Format.Percent(total.Progress * 100)})" +
               $" | pending {Format.Count(total.Pending)} | awaiting retry {Format.Count(total.AwaitingRetry)} | {Footer()}";
    }

    private Kpis Total() => KpiTotals.Sum(runs.Select(r => r.LastView?.Kpis).OfType<Kpis>().DefaultIfEmpty(Empty).ToList());

    private string Footer()
    {
        var silo = metrics.Now;
        var memory = silo.WorkingSetBytes is { } ws
            ? $"silo resident {Format.Bytes(ws)} (peak sampled {Format.Bytes(silo.PeakWorkingSetBytes ?? ws)})"
            : $"silo resident n/a{(silo.Error is { } e ? $" ({e})" : "")}";
        var reads = latency.Figures();
        return reads.MedianMs is { } median
            ? $"{memory} | view reads: median {Format.Milliseconds(median)}, p95 {Format.Milliseconds(reads.P95Ms ?? median)} ({Format.Count(reads.Count)})"
            : memory;
    }

    private Markup Bar(Kpis kpis)
    {
        var progress = Math.Clamp(kpis.Progress, 0, 1);
        var filled = (int)Math.Round(progress * BarWidth);
        var bar = Width >= 110 ? $"[green]{new string('━', filled)}[/][grey]{new string('━', BarWidth - filled)}[/] " : "";
        return new Markup($"{bar}{Format.Percent(progress * 100)} {Format.Count(kpis.Sent)}/{Format.Count(kpis.ToDeliver)}");
    }

    private static readonly Kpis Empty = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, DateTimeOffset.MinValue);
}
