using System.Globalization;
using System.Text;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole.Charts;

/// <summary>
/// The Deployment block's charts as server-rendered SVG, no script and no chart library: sent,
/// delivered and bounces + errors over time (lines), and opens and clicks per hour (bars), from a
/// delivery's timeline. Only numbers and dates reach the markup; times are UTC.
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

    public const string SentColor = "#2563eb";
    public const string DeliveredColor = "#16a34a";
    public const string BouncesColor = "#dc2626";
    public const string OpensColor = "#7c3aed";
    public const string ClicksColor = "#ea580c";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Both charts, as the delivery page shows them and the live feed pushes them.</summary>
    public static string Render(IReadOnlyList<TimelinePoint> points)
    {
        var html = new StringBuilder(8192);
        html.Append(Invariant, $"<div class=\"dg-charts\" data-points=\"{points.Count}\">");
        html.Append(Progress(points));
        html.Append(Tracking(HourlyTracking.Of(points)));
        html.Append("</div>");
        return html.ToString();
    }

    /// <summary>Sent, delivered and bounces + errors over time, one line each.</summary>
    public static string Progress(IReadOnlyList<TimelinePoint> points)
    {
        var svg = new StringBuilder(4096);
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
        var top = NiceCeiling(ordered.Max(p => Math.Max(p.Sent, Math.Max(p.Delivered, p.BouncesAndErrors))));
        var last = ordered[^1];
        Open(svg, "Sent, delivered and bounces + errors over time", string.Create(Invariant,
            $"At {Time(last.At, true)} UTC: {last.Sent:N0} sent, {last.Delivered:N0} delivered, {last.BouncesAndErrors:N0} bounces + errors."));
        YAxis(svg, top);
        var middle = from + (to - from) / 2;
        var withDate = to - from >= TimeSpan.FromDays(1) || from.UtcDateTime.Date != to.UtcDateTime.Date;
        XLabel(svg, Left, Time(from, withDate), "start");
        if (to - from >= TimeSpan.FromMinutes(2))
        {
            XLabel(svg, Left + PlotWidth / 2.0, Time(middle, withDate), "middle");
        }

        XLabel(svg, Left + PlotWidth, Time(to, withDate), "end");

        var columns = Decimate(ordered, p => Left + (p.At - from).TotalSeconds / span * PlotWidth);
        Line(svg, columns, from, span, top, p => p.Sent, SentColor, "sent");
        Line(svg, columns, from, span, top, p => p.Delivered, DeliveredColor, "delivered");
        Line(svg, columns, from, span, top, p => p.BouncesAndErrors, BouncesColor, "bounces");
        return svg.Append("</svg></figure>").ToString();
    }

    /// <summary>Opens and clicks per UTC hour, two bars an hour.</summary>
    public static string Tracking(IReadOnlyList<HourlyTracking> hours)
    {
        var svg = new StringBuilder(4096);
        svg.Append("<figure class=\"dg-chart\" id=\"chart-tracking\"><figcaption>Opens and clicks per hour (UTC)")
            .Append(Legend(("Opens", OpensColor, "opens"), ("Clicks", ClicksColor, "clicks")))
            .Append("</figcaption>");
        if (hours.Count == 0 || hours.All(h => h.Opens == 0 && h.Clicks == 0))
        {
            return svg.Append("<p class=\"dg-chart-empty\">No opens or clicks yet: tracking is counted on the tracking refresh period.</p></figure>").ToString();
        }

        var top = NiceCeiling(hours.Max(h => Math.Max(h.Opens, h.Clicks)));
        var busiest = hours.MaxBy(h => h.Opens)!;
        Open(svg, "Opens and clicks per hour", string.Create(Invariant,
            $"{hours.Sum(h => h.Opens):N0} opens and {hours.Sum(h => h.Clicks):N0} clicks over {hours.Count} hours; most opens at {Time(busiest.Hour, true)} UTC ({busiest.Opens:N0})."));
        YAxis(svg, top);
        var group = (double)PlotWidth / hours.Count;
        var bar = Math.Max(group * 0.4, 0.5);
        var labelEvery = (int)Math.Ceiling(hours.Count / 8.0);
        for (var i = 0; i < hours.Count; i++)
        {
            var h = hours[i];
            var x = Left + i * group + group * 0.1;
            Bar(svg, x, bar, h.Opens, top, OpensColor, "opens", string.Create(Invariant, $"{Time(h.Hour, true)} UTC: {h.Opens:N0} opens"));
            Bar(svg, x + bar, bar, h.Clicks, top, ClicksColor, "clicks", string.Create(Invariant, $"{Time(h.Hour, true)} UTC: {h.Clicks:N0} clicks"));
            if (i % labelEvery == 0)
            {
                var withDate = i == 0 || h.Hour.Hour < labelEvery;
                XLabel(svg, Left + (i + 0.5) * group, withDate ? h.Hour.ToString("MMM d HH:00", Invariant) : h.Hour.ToString("HH:00", Invariant), "middle");
            }
        }

        return svg.Append("</svg></figure>").ToString();
    }

    /// <summary>The smallest 1, 2 or 5 × 10ⁿ at or above <paramref name="value"/> (at least 1): the top of an axis.</summary>
    public static long NiceCeiling(long value)
    {
        if (value <= 1)
        {
            return 1;
        }

        long magnitude = 1;
        while (magnitude <= value / 10)
        {
            magnitude *= 10;
        }

        foreach (var step in new long[] { 1, 2, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
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

    private static void Open(StringBuilder svg, string title, string description) =>
        svg.Append(Invariant, $"<svg viewBox=\"0 0 {Width} {Height}\" width=\"100%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, sans-serif\" font-size=\"11\">")
            .Append("<title>").Append(title).Append("</title><desc>").Append(description).Append("</desc>");

    private static void YAxis(StringBuilder svg, long top)
    {
        for (var i = 0; i <= 4; i++)
        {
            var y = Top + PlotHeight - i * PlotHeight / 4.0;
            var value = top * i / 4;
            svg.Append(Invariant, $"<line x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"{(i == 0 ? "#6b7280" : "#e5e7eb")}\" stroke-width=\"1\"/>")
                .Append(Invariant, $"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" fill=\"#4b5563\">{Compact(value)}</text>");
        }
    }

    private static void XLabel(StringBuilder svg, double x, string text, string anchor) =>
        svg.Append(Invariant, $"<text x=\"{x:0.#}\" y=\"{Height - Bottom + 18}\" text-anchor=\"{anchor}\" fill=\"#4b5563\">{text}</text>");

    private static void Line(StringBuilder svg, List<TimelinePoint> points, DateTimeOffset from, double span, long top,
        Func<TimelinePoint, long> value, string color, string series)
    {
        svg.Append(Invariant, $"<polyline class=\"dg-series-{series}\" data-series=\"{series}\" data-last=\"{value(points[^1])}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
        foreach (var p in points)
        {
            var x = Left + (p.At - from).TotalSeconds / span * PlotWidth;
            var y = Top + PlotHeight - (double)value(p) / top * PlotHeight;
            svg.Append(Invariant, $"{x:0.#},{y:0.#} ");
        }

        svg.Append("\"/>");
    }

    private static void Bar(StringBuilder svg, double x, double width, long value, long top, string color, string series, string title)
    {
        var height = (double)value / top * PlotHeight;
        svg.Append(Invariant, $"<rect class=\"dg-series-{series}\" data-value=\"{value}\" x=\"{x:0.##}\" y=\"{Top + PlotHeight - height:0.##}\" width=\"{width:0.##}\" height=\"{height:0.##}\" fill=\"{color}\"><title>{title}</title></rect>");
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

    private static string Time(DateTimeOffset at, bool withDate) =>
        at.UtcDateTime.ToString(withDate ? "MMM d HH:mm" : "HH:mm:ss", Invariant);
}
