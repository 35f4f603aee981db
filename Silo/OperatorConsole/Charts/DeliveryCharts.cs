using System.Globalization;
using System.Net;
using System.Text;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole.Charts;

/// <summary>
/// The Deployment block's charts as server-rendered SVG, no script and no chart library: sent,
/// delivered and bounces + errors over time (lines), and opens and clicks per hour (bars), from a
/// delivery's timeline. Axes have whole-number ticks chosen for the figures and time labels along
/// the x axis; every column has its values on hover (SVG titles), and every chart has a table of its
/// figures for screen readers and for reading exact values. Only numbers and dates reach the markup;
/// times are UTC.
/// </summary>
public static class DeliveryCharts
{
    public const int Width = 720;
    public const int Height = 260;
    private const int Left = 64;
    private const int Right = 16;
    private const int Top = 16;
    private const int Bottom = 40;
    private const int PlotWidth = Width - Left - Right;
    private const int PlotHeight = Height - Top - Bottom;

    /// <summary>The most intervals an axis is cut into.</summary>
    public const int MaxIntervals = 5;

    /// <summary>The most hover columns and table rows of the progress chart (the latest point of each slice of time).</summary>
    public const int MaxSamples = 60;

    public const string SentColor = "#2563eb";
    public const string DeliveredColor = "#16a34a";
    public const string BouncesColor = "#dc2626";
    public const string OpensColor = "#7c3aed";
    public const string ClicksColor = "#ea580c";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly TimeSpan[] TimeSteps =
    [
        .. new[] { 1, 2, 5, 10, 15, 30 }.Select(s => TimeSpan.FromSeconds(s)),
        .. new[] { 1, 2, 5, 10, 15, 30 }.Select(m => TimeSpan.FromMinutes(m)),
        .. new[] { 1, 2, 3, 6, 12 }.Select(h => TimeSpan.FromHours(h)),
        .. new[] { 1, 2, 7 }.Select(d => TimeSpan.FromDays(d)),
    ];

    /// <summary>Both charts, as the delivery page shows them and the live feed pushes them.</summary>
    public static string Render(IReadOnlyList<TimelinePoint> points)
    {
        var html = new StringBuilder(16384);
        html.Append(Invariant, $"<div class=\"dg-charts\" data-points=\"{points.Count}\">");
        html.Append(Progress(points));
        html.Append(Tracking(HourlyTracking.Of(points)));
        html.Append("</div>");
        return html.ToString();
    }

    /// <summary>Sent, delivered and bounces + errors over time, one line each.</summary>
    public static string Progress(IReadOnlyList<TimelinePoint> points)
    {
        var svg = new StringBuilder(8192);
        svg.Append("<figure class=\"dg-chart\" id=\"chart-progress\"><figcaption>Sent, delivered and bounces + errors over time (UTC)")
            .Append(Legend(("Sent", SentColor, "sent"), ("Delivered", DeliveredColor, "delivered"), ("Bounces + errors", BouncesColor, "bounces")))
            .Append("</figcaption>");
        if (points.Count == 0)
        {
            return svg.Append("<p class=\"dg-chart-empty\">No points yet: the chart starts when the delivery starts relaying.</p></figure>").ToString();
        }

        var ordered = points.OrderBy(p => p.At).ToList();
        var from = ordered[0].At;
        var to = ordered[^1].At;
        var span = Math.Max((to - from).TotalSeconds, 1);
        var ticks = Ticks(ordered.Max(p => Math.Max(p.Sent, Math.Max(p.Delivered, p.BouncesAndErrors))));
        var top = ticks[^1];
        var last = ordered[^1];
        var withDate = from.UtcDateTime.Date != to.UtcDateTime.Date;
        Open(svg, "Sent, delivered and bounces + errors over time", string.Create(Invariant,
            $"At {Time(last.At, withDate, seconds: true)} UTC: {last.Sent:N0} sent, {last.Delivered:N0} delivered, {last.BouncesAndErrors:N0} bounces + errors."));
        YAxis(svg, ticks);
        double X(DateTimeOffset at) => Left + (at - from).TotalSeconds / span * PlotWidth;
        foreach (var (at, label) in TimeTicks(from, to))
        {
            XLabel(svg, X(at), label, "middle");
        }

        var columns = Decimate(ordered, p => X(p.At));
        Line(svg, columns, X, top, p => p.Sent, SentColor, "sent");
        Line(svg, columns, X, top, p => p.Delivered, DeliveredColor, "delivered");
        Line(svg, columns, X, top, p => p.BouncesAndErrors, BouncesColor, "bounces");

        // Hover: one transparent column per sample, its title the figures at that time.
        var samples = Samples(ordered, MaxSamples);
        for (var i = 0; i < samples.Count; i++)
        {
            var left = i == 0 ? Left : (X(samples[i - 1].At) + X(samples[i].At)) / 2;
            var right = i == samples.Count - 1 ? Left + PlotWidth : (X(samples[i].At) + X(samples[i + 1].At)) / 2;
            var p = samples[i];
            svg.Append(Invariant, $"<rect class=\"dg-hover\" x=\"{left:0.##}\" y=\"{Top}\" width=\"{Math.Max(right - left, 0.5):0.##}\" height=\"{PlotHeight}\" fill=\"transparent\">")
                .Append(Invariant, $"<title>{Time(p.At, withDate, seconds: true)} UTC: {p.Sent:N0} sent, {p.Delivered:N0} delivered, {p.BouncesAndErrors:N0} bounces + errors</title></rect>");
        }

        svg.Append("</svg>");
        Table(svg, "chart-progress-table", "The figures over time", ["Time (UTC)", "Sent", "Delivered", "Bounces + errors"],
            samples.Select(p => (Time(p.At, withDate, seconds: true), new[] { p.Sent, p.Delivered, p.BouncesAndErrors })));
        return svg.Append("</figure>").ToString();
    }

    /// <summary>Opens and clicks per UTC hour, two bars an hour.</summary>
    public static string Tracking(IReadOnlyList<HourlyTracking> hours)
    {
        var svg = new StringBuilder(8192);
        svg.Append("<figure class=\"dg-chart\" id=\"chart-tracking\"><figcaption>Opens and clicks per hour (UTC)")
            .Append(Legend(("Opens", OpensColor, "opens"), ("Clicks", ClicksColor, "clicks")))
            .Append("</figcaption>");
        if (hours.Count == 0 || hours.All(h => h.Opens == 0 && h.Clicks == 0))
        {
            return svg.Append("<p class=\"dg-chart-empty\">No opens or clicks yet: tracking is counted on the tracking refresh period.</p></figure>").ToString();
        }

        var ticks = Ticks(hours.Max(h => Math.Max(h.Opens, h.Clicks)));
        var top = ticks[^1];
        var busiest = hours.MaxBy(h => h.Opens)!;
        Open(svg, "Opens and clicks per hour", string.Create(Invariant,
            $"{hours.Sum(h => h.Opens):N0} opens and {hours.Sum(h => h.Clicks):N0} clicks over {hours.Count} hours; most opens at {busiest.Hour.ToString("MMM d HH:mm", Invariant)} UTC ({busiest.Opens:N0})."));
        YAxis(svg, ticks);
        var group = (double)PlotWidth / hours.Count;
        var bar = Math.Max(group * 0.4, 0.5);
        var labelEvery = (int)Math.Ceiling(hours.Count / 8.0);
        for (var i = 0; i < hours.Count; i++)
        {
            var h = hours[i];
            var x = Left + i * group + group * 0.1;
            var hour = h.Hour.ToString("MMM d HH:mm", Invariant);
            Bar(svg, x, bar, h.Opens, top, OpensColor, "opens", string.Create(Invariant, $"{hour} UTC: {h.Opens:N0} opens"));
            Bar(svg, x + bar, bar, h.Clicks, top, ClicksColor, "clicks", string.Create(Invariant, $"{hour} UTC: {h.Clicks:N0} clicks"));
            if (i % labelEvery == 0)
            {
                var withDate = i == 0 || h.Hour.Hour < labelEvery;
                XLabel(svg, Left + (i + 0.5) * group, withDate ? h.Hour.ToString("MMM d HH:00", Invariant) : h.Hour.ToString("HH:00", Invariant), "middle");
            }
        }

        svg.Append("</svg>");
        Table(svg, "chart-tracking-table", "Opens and clicks by hour", ["Hour (UTC)", "Opens", "Clicks"],
            hours.Where(h => h.Opens > 0 || h.Clicks > 0).Select(h => (h.Hour.ToString("MMM d HH:00", Invariant), new[] { h.Opens, h.Clicks })));
        return svg.Append("</figure>").ToString();
    }

    /// <summary>
    /// The y axis for figures up to <paramref name="max"/>: whole numbers from 0, a step of 1, 2 or 5 × 10ⁿ,
    /// the fewest that cover the figures in at most <see cref="MaxIntervals"/> intervals
    /// (3 → 0, 1, 2, 3; 5 → 0 to 5; 7 → 0, 2, 4, 6, 8; 0 → 0, 1). The last tick is the top of the plot,
    /// so a figure equal to a tick is drawn on its line.
    /// </summary>
    public static IReadOnlyList<long> Ticks(long max)
    {
        max = Math.Max(max, 1);
        for (long magnitude = 1; ; magnitude *= 10)
        {
            foreach (var factor in new long[] { 1, 2, 5 })
            {
                var step = factor * magnitude;
                var intervals = (max + step - 1) / step;
                if (intervals <= MaxIntervals)
                {
                    return [.. Enumerable.Range(0, (int)intervals + 1).Select(i => i * step)];
                }
            }
        }
    }

    /// <summary>
    /// Labels along the time axis: at round times (every 1, 2, 5, 10, 15, 30 s or min, hours, days) that
    /// cut the span into at most six parts; seconds shown when the step is under a minute, the date when
    /// the span crosses midnight. A span of a moment gets one label, its time.
    /// </summary>
    public static IReadOnlyList<(DateTimeOffset At, string Label)> TimeTicks(DateTimeOffset from, DateTimeOffset to)
    {
        var span = to - from;
        var withDate = from.UtcDateTime.Date != to.UtcDateTime.Date;
        if (span < TimeSpan.FromSeconds(1))
        {
            return [(from, Time(from, withDate, seconds: true))];
        }

        var step = TimeSteps.FirstOrDefault(s => span / s <= 6, TimeSteps[^1]);
        var seconds = step < TimeSpan.FromMinutes(1);
        var first = new DateTimeOffset((from.UtcTicks + step.Ticks - 1) / step.Ticks * step.Ticks, TimeSpan.Zero);
        var ticks = new List<(DateTimeOffset, string)>();
        var previousDate = (DateTime?)null;
        for (var at = first; at <= to; at += step)
        {
            var date = at.UtcDateTime.Date;
            var label = step >= TimeSpan.FromDays(1)
                ? at.ToString("MMM d", Invariant)
                : Time(at, withDate && date != previousDate, seconds);
            ticks.Add((at, label));
            previousDate = date;
        }

        return ticks;
    }

    /// <summary>A count as an axis shows it: 950, 12.5k, 1.2M.</summary>
    public static string Compact(long value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000.0).ToString("0.##", Invariant) + "M",
        >= 10_000 => (value / 1_000.0).ToString("0.#", Invariant) + "k",
        _ => value.ToString("N0", Invariant),
    };

    /// <summary>At most one point per pixel column (the latest of each): a long series draws as fast as a short one.</summary>
    internal static List<TimelinePoint> Decimate(List<TimelinePoint> ordered, Func<TimelinePoint, double> x)
    {
        if (ordered.Count <= PlotWidth)
        {
            return ordered;
        }

        var kept = new List<TimelinePoint>(PlotWidth + 1) { ordered[0] };
        var column = (int)x(ordered[0]);
        for (var i = 1; i < ordered.Count; i++)
        {
            var c = (int)x(ordered[i]);
            if (c == column && kept.Count > 1)
            {
                kept[^1] = ordered[i];
            }
            else
            {
                kept.Add(ordered[i]);
                column = c;
            }
        }

        return kept;
    }

    /// <summary>
    /// At most <paramref name="count"/> points, the latest of each equal slice of the time span (the
    /// first point kept too): what the hover columns and the table show.
    /// </summary>
    internal static List<TimelinePoint> Samples(List<TimelinePoint> ordered, int count)
    {
        if (ordered.Count <= count)
        {
            return ordered;
        }

        var from = ordered[0].At;
        var slice = Math.Max((ordered[^1].At - from).Ticks / Math.Max(count - 2, 1), 1);
        var kept = new List<TimelinePoint>(count) { ordered[0] };
        var current = 0L;
        for (var i = 1; i < ordered.Count; i++)
        {
            var s = Math.Max((ordered[i].At - from).Ticks - 1, 0) / slice;
            if (s == current && kept.Count > 1)
            {
                kept[^1] = ordered[i];
            }
            else
            {
                kept.Add(ordered[i]);
                current = s;
            }
        }

        return kept;
    }

    private static void Open(StringBuilder svg, string title, string description) =>
        svg.Append(Invariant, $"<svg viewBox=\"0 0 {Width} {Height}\" width=\"100%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, sans-serif\" font-size=\"11\">")
            .Append("<title>").Append(title).Append("</title><desc>").Append(description).Append("</desc>");

    private static void YAxis(StringBuilder svg, IReadOnlyList<long> ticks)
    {
        var top = ticks[^1];
        for (var i = 0; i < ticks.Count; i++)
        {
            var y = Top + PlotHeight - (double)ticks[i] / top * PlotHeight;
            svg.Append(Invariant, $"<line x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{y:0.##}\" y2=\"{y:0.##}\" stroke=\"{(i == 0 ? "#6b7280" : "#e5e7eb")}\" stroke-width=\"1\"/>")
                .Append(Invariant, $"<text class=\"dg-tick-y\" data-value=\"{ticks[i]}\" x=\"{Left - 6}\" y=\"{y + 4:0.##}\" text-anchor=\"end\" fill=\"#4b5563\">{Compact(ticks[i])}</text>");
        }
    }

    private static void XLabel(StringBuilder svg, double x, string text, string anchor) =>
        svg.Append(Invariant, $"<text class=\"dg-tick-x\" x=\"{x:0.#}\" y=\"{Height - Bottom + 18}\" text-anchor=\"{anchor}\" fill=\"#4b5563\">{text}</text>");

    private static void Line(StringBuilder svg, List<TimelinePoint> points, Func<DateTimeOffset, double> x, long top,
        Func<TimelinePoint, long> value, string color, string series)
    {
        svg.Append(Invariant, $"<polyline class=\"dg-series-{series}\" data-series=\"{series}\" data-last=\"{value(points[^1])}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
        foreach (var p in points)
        {
            var y = Top + PlotHeight - (double)value(p) / top * PlotHeight;
            svg.Append(Invariant, $"{x(p.At):0.##},{y:0.##} ");
        }

        svg.Append("\"/>");
    }

    private static void Bar(StringBuilder svg, double x, double width, long value, long top, string color, string series, string title)
    {
        var height = (double)value / top * PlotHeight;
        svg.Append(Invariant, $"<rect class=\"dg-series-{series}\" data-value=\"{value}\" x=\"{x:0.##}\" y=\"{Top + PlotHeight - height:0.##}\" width=\"{width:0.##}\" height=\"{height:0.##}\" fill=\"{color}\"><title>{title}</title></rect>");
    }

    /// <summary>The chart's figures as a table, folded under the chart: what a screen reader reads, and exact values for everyone.</summary>
    private static void Table(StringBuilder html, string id, string summary, string[] headers, IEnumerable<(string Label, long[] Values)> rows)
    {
        html.Append(Invariant, $"<details class=\"dg-chart-data\"><summary>{summary} (table)</summary><div class=\"table-scroll\"><table class=\"grid\" id=\"{id}\"><thead><tr>");
        for (var i = 0; i < headers.Length; i++)
        {
            html.Append(i == 0 ? "<th scope=\"col\">" : "<th scope=\"col\" class=\"num\">").Append(WebUtility.HtmlEncode(headers[i])).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        foreach (var (label, values) in rows)
        {
            html.Append("<tr><th scope=\"row\">").Append(WebUtility.HtmlEncode(label)).Append("</th>");
            foreach (var value in values)
            {
                html.Append(Invariant, $"<td class=\"num\">{value:N0}</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</tbody></table></div></details>");
    }

    private static string Legend(params (string Name, string Color, string Series)[] entries)
    {
        var html = new StringBuilder("<span class=\"dg-legend\">");
        foreach (var (name, color, series) in entries)
        {
            html.Append(Invariant, $" <span class=\"dg-legend-{series}\"><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{color}\"/></svg> {name}</span>");
        }

        return html.Append("</span>").ToString();
    }

    private static string Time(DateTimeOffset at, bool withDate, bool seconds) =>
        at.UtcDateTime.ToString((withDate ? "MMM d " : "") + (seconds ? "HH:mm:ss" : "HH:mm"), Invariant);
}
