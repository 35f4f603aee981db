using System.Text.RegularExpressions;
using System.Xml.Linq;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.OperatorConsole.Charts;

namespace DeliveryGrains.Api.Tests;

public sealed class ChartTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 40, 0, TimeSpan.Zero);

    private static TimelinePoint At(TimeSpan after, long sent = 0, long delivered = 0, long bounces = 0, long opens = 0, long clicks = 0) =>
        new(Start + after, sent, delivered, bounces, opens, clicks, 0, 0);

    [Fact]
    [Trait("Rule", "R8.4")]
    public void Cumulative_opens_and_clicks_become_counts_per_utc_hour_with_empty_hours_kept()
    {
        var points = new[]
        {
            At(TimeSpan.Zero),
            At(TimeSpan.FromMinutes(10), opens: 5, clicks: 1),
            At(TimeSpan.FromMinutes(19), opens: 8, clicks: 2),   // 09:59: hour 09 ends with 8 / 2
            At(TimeSpan.FromMinutes(20), opens: 20, clicks: 4),  // 10:00 sharp belongs to hour 10
            At(TimeSpan.FromMinutes(200), opens: 26, clicks: 4), // 13:00: hours 11 and 12 saw nothing
        };

        var hours = HourlyTracking.Of(points);

        Assert.Equal(
            [
                new HourlyTracking(Hour(9), 8, 2),
                new HourlyTracking(Hour(10), 12, 2),
                new HourlyTracking(Hour(11), 0, 0),
                new HourlyTracking(Hour(12), 0, 0),
                new HourlyTracking(Hour(13), 6, 0),
            ],
            hours);
        Assert.Equal(26, hours.Sum(h => h.Opens));
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public void A_recount_that_lowers_a_figure_shows_as_zero_not_as_a_negative_hour()
    {
        var hours = HourlyTracking.Of([At(TimeSpan.Zero, opens: 10), At(TimeSpan.FromHours(1), opens: 7), At(TimeSpan.FromHours(2), opens: 9)]);

        Assert.Equal([10L, 0L, 2L], hours.Select(h => h.Opens));
    }

    [Fact]
    [Trait("Rule", "R8.4")]
    public void Bucketing_keeps_the_latest_hours_only_and_needs_no_ordering()
    {
        var points = Enumerable.Range(0, 50).Select(h => At(TimeSpan.FromHours(h), opens: h)).Reverse().ToList();

        var hours = HourlyTracking.Of(points, maxHours: 24);

        Assert.Equal(24, hours.Count);
        Assert.Equal(Start.AddHours(49).AddMinutes(-40), hours[^1].Hour);
        Assert.All(hours, h => Assert.Equal(1, h.Opens));
        Assert.Empty(HourlyTracking.Of([]));
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public void A_capped_send_gives_no_time_left_in_its_first_minute_and_says_it_is_estimating()
    {
        // A domain capped at 1,000 a minute: its minute's messages go in the first two seconds, then nothing until
        // the next minute. The rate so far (500/s) would promise the end of 10,000 in 18 s; it takes ten minutes.
        var points = new[] { At(TimeSpan.Zero), At(TimeSpan.FromSeconds(2), sent: 1000), At(TimeSpan.FromSeconds(62), sent: 2000) };
        var domains = new[] { new DomainStats("capped.test", 10_000, 1000, 1000, 0, 9000, 1000) };

        var early = DeploymentPace.Of(Running(sent: 1000), points[..2], domains, Start + TimeSpan.FromSeconds(2));
        Assert.True(early.Estimating);
        Assert.Null(early.SecondsLeft);
        Assert.Equal(500.0, early.RatePerSecond);
        Assert.Equal("estimating…", DeploymentPace.TimeLeft(early.SecondsLeft, early.Estimating));

        // A minute on, the rate is the last minute's (1,000 in 60 s) and the time left follows from it.
        var later = DeploymentPace.Of(Running(sent: 2000), points, domains, Start + TimeSpan.FromSeconds(63));
        Assert.False(later.Estimating);
        Assert.Equal(16.7, later.RatePerSecond);
        Assert.Equal(480, later.SecondsLeft);
        Assert.Equal("8 min 00 s", DeploymentPace.TimeLeft(later.SecondsLeft, later.Estimating));

        // Once nothing is left there is nothing to estimate.
        Assert.False(DeploymentPace.Of(Running(sent: 10_000), points[..2], domains, Start + TimeSpan.FromSeconds(3)).Estimating);
    }

    private static DeliveryView Running(long sent)
    {
        var kpis = Kpis.Of(10_000, sent, sent, 0, 0, 0, 0, 0, Start);
        return new DeliveryView("d", "Capped", Channel.Email, DeliveryStatus.InProgress, false, TimeSpan.FromDays(1), null, null, [], kpis,
            TimeSpan.FromHours(1), 3, true, new MtaSettings(MtaKind.Simulated), "admin", 10_000, StartedAt: Start);
    }

    [Theory]
    [Trait("Rule", "R8")]
    [InlineData(0, new long[] { 0, 1 })]
    [InlineData(1, new long[] { 0, 1 })]
    [InlineData(3, new long[] { 0, 1, 2, 3 })]
    [InlineData(5, new long[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData(7, new long[] { 0, 2, 4, 6, 8 })]
    [InlineData(10, new long[] { 0, 2, 4, 6, 8, 10 })]
    [InlineData(11, new long[] { 0, 5, 10, 15 })]
    [InlineData(180, new long[] { 0, 50, 100, 150, 200 })]
    [InlineData(1_000_000, new long[] { 0, 200_000, 400_000, 600_000, 800_000, 1_000_000 })]
    public void Axis_ticks_are_whole_numbers_chosen_for_the_figures(long max, long[] expected) =>
        Assert.Equal(expected, DeliveryCharts.Ticks(max));

    [Fact]
    [Trait("Rule", "R8")]
    public void Any_figure_gets_at_most_five_even_whole_intervals_that_cover_it()
    {
        foreach (var max in Enumerable.Range(0, 2000).Select(i => (long)i).Concat([999_999, 1_000_001, 123_456_789]))
        {
            var ticks = DeliveryCharts.Ticks(max);
            var step = ticks[1];
            Assert.InRange(ticks.Count - 1, 1, DeliveryCharts.MaxIntervals);
            Assert.Equal(ticks.Select((_, i) => i * step), ticks);
            Assert.True(ticks[^1] >= max && ticks[^1] - step < Math.Max(max, 1), $"{max}: {string.Join(",", ticks)}");
        }
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public void Three_recipients_label_0_1_2_3_and_the_value_3_is_drawn_on_the_3_line()
    {
        var points = new[] { At(TimeSpan.Zero), At(TimeSpan.FromSeconds(1), sent: 2, delivered: 1), At(TimeSpan.FromSeconds(3), sent: 3, delivered: 3) };

        var svg = Chart(DeliveryCharts.Progress(points));

        var ticks = svg.Descendants(N("text")).Where(t => (string?)t.Attribute("class") == "dg-tick-y").ToList();
        Assert.Equal(["0", "1", "2", "3"], ticks.Select(t => t.Value));
        var three = ticks.Single(t => t.Value == "3");
        var sent = Coordinates(svg.Descendants(N("polyline")).Single(l => (string?)l.Attribute("data-series") == "sent"));
        Assert.Equal(Y(three) - 4, sent[^1].Y, 1);
        var one = ticks.Single(t => t.Value == "1");
        var delivered = Coordinates(svg.Descendants(N("polyline")).Single(l => (string?)l.Attribute("data-series") == "delivered"));
        Assert.Equal(Y(one) - 4, delivered[1].Y, 1);
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public void Each_moment_has_its_figures_on_hover_and_in_a_table_and_times_run_along_the_axis()
    {
        var points = Enumerable.Range(0, 11).Select(i => At(TimeSpan.FromSeconds(i * 6), sent: i * 10L, delivered: i * 9L, bounces: i)).ToList();

        var html = XElement.Parse(DeliveryCharts.Progress(points));
        var svg = html.Descendants(N("svg")).Single(s => s.Attribute("viewBox") is not null);

        var hovers = svg.Descendants(N("rect")).Where(r => (string?)r.Attribute("class") == "dg-hover").ToList();
        Assert.Equal(11, hovers.Count);
        Assert.Equal("09:40:30 UTC: 50 sent, 45 delivered, 5 bounces + errors", hovers[5].Element(N("title"))!.Value);
        var labels = svg.Descendants(N("text")).Where(t => (string?)t.Attribute("class") == "dg-tick-x").Select(t => t.Value).ToList();
        Assert.Equal(["09:40:00", "09:40:10", "09:40:20", "09:40:30", "09:40:40", "09:40:50", "09:41:00"], labels);
        var rows = html.Descendants("table").Single().Element("tbody")!.Elements("tr").ToList();
        Assert.Equal(11, rows.Count);
        Assert.Equal(["09:41:00", "100", "90", "10"], rows[^1].Elements().Select(e => e.Value));
    }

    [Theory]
    [Trait("Rule", "R8")]
    [InlineData(0, 0, 30, "09:40:00,09:40:05,09:40:10,09:40:15,09:40:20,09:40:25,09:40:30")]
    [InlineData(0, 59, 0, "09:40,09:50,10:00,10:10,10:20,10:30")]
    [InlineData(0, 0, 0, "09:40:00")]
    [InlineData(14, 40, 0, "Nov 27 12:00,15:00,18:00,21:00,Nov 28 00:00")]
    public void Time_labels_fall_on_round_times_across_the_span(int hours, int minutes, int seconds, string expected)
    {
        var ticks = DeliveryCharts.TimeTicks(Start, Start + new TimeSpan(hours, minutes, seconds));

        Assert.Equal(expected.Split(','), ticks.Select(t => t.Label));
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public void The_progress_chart_draws_one_line_per_figure_ending_at_the_last_point()
    {
        var points = new[]
        {
            At(TimeSpan.Zero),
            At(TimeSpan.FromSeconds(1), sent: 400, delivered: 380, bounces: 20),
            At(TimeSpan.FromSeconds(2), sent: 1000, delivered: 950, bounces: 50),
        };

        var svg = Chart(DeliveryCharts.Progress(points));

        var lines = svg.Descendants(N("polyline")).ToDictionary(l => (string)l.Attribute("data-series")!);
        Assert.Equal(["sent", "delivered", "bounces"], lines.Keys);
        Assert.Equal("1000", (string?)lines["sent"].Attribute("data-last"));
        Assert.Equal("950", (string?)lines["delivered"].Attribute("data-last"));
        Assert.Equal("50", (string?)lines["bounces"].Attribute("data-last"));

        // The first point sits on the left of the plot at 0, the last on the right; the axis tops at 1,000.
        var sent = Coordinates(lines["sent"]);
        Assert.Equal(3, sent.Count);
        Assert.True(sent[0].X < sent[^1].X);
        Assert.True(sent[0].Y > sent[^1].Y);
        Assert.Contains(svg.Descendants(N("text")), t => t.Value == "1,000");
        Assert.Contains("1,000 sent, 950 delivered, 50 bounces + errors", svg.Element(N("desc"))!.Value);
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public void A_long_timeline_draws_at_most_one_point_per_pixel_column_and_keeps_the_ends()
    {
        var points = Enumerable.Range(0, 3000).Select(i => At(TimeSpan.FromSeconds(i), sent: i * 10L)).ToList();

        var line = Chart(DeliveryCharts.Progress(points)).Descendants(N("polyline")).First();

        var drawn = Coordinates(line);
        Assert.InRange(drawn.Count, 2, DeliveryCharts.Width);
        Assert.Equal("29990", (string?)line.Attribute("data-last"));
        Assert.Equal(drawn.OrderBy(p => p.X).Select(p => p.X), drawn.Select(p => p.X));
    }

    [Fact]
    [Trait("Rule", "R8.4")]
    public void The_tracking_chart_draws_two_bars_an_hour_with_their_counts()
    {
        var hours = new[] { new HourlyTracking(Hour(9), 8, 2), new HourlyTracking(Hour(10), 12, 0) };

        var svg = Chart(DeliveryCharts.Tracking(hours));

        var bars = svg.Descendants(N("rect")).Where(r => r.Attribute("data-value") is not null).ToList();
        Assert.Equal(["8", "2", "12", "0"], bars.Select(b => (string)b.Attribute("data-value")!));
        var opens = bars.Where(b => ((string?)b.Attribute("class"))!.Contains("opens", StringComparison.Ordinal)).ToList();
        Assert.True(Height(opens[1]) > Height(opens[0]));
        Assert.Equal("Nov 27 10:00 UTC: 12 opens", opens[1].Element(N("title"))!.Value);
    }

    [Fact]
    [Trait("Rule", "R8.6")]
    public void Without_points_or_tracking_the_charts_say_so_instead_of_drawing_nothing()
    {
        var html = DeliveryCharts.Render([]);

        Assert.Contains("No points yet", html, StringComparison.Ordinal);
        Assert.Contains("No opens or clicks yet", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<svg viewBox", html, StringComparison.Ordinal);
        Assert.NotNull(XElement.Parse(html));
    }

    [Fact]
    [Trait("Rule", "R8")]
    public void The_rendered_charts_are_well_formed_markup_whatever_the_figures()
    {
        var points = Enumerable.Range(0, 200)
            .Select(i => At(TimeSpan.FromMinutes(i * 7), sent: i * 5000L, delivered: i * 4900L, bounces: i * 100L, opens: i * 1000L, clicks: i * 90L))
            .ToList();

        var root = XElement.Parse(DeliveryCharts.Render(points));

        Assert.Equal("200", (string?)root.Attribute("data-points"));
        Assert.Equal(2, root.Descendants(N("svg")).Count(s => s.Attribute("viewBox") is not null));
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    public void The_rate_is_what_was_sent_over_the_last_minute_and_the_time_left_follows_from_it()
    {
        var points = new[] { At(TimeSpan.Zero), At(TimeSpan.FromSeconds(30), sent: 600), At(TimeSpan.FromSeconds(90), sent: 1200) };

        // Under a minute of history: over the time since the start. Later: the sent figure at the window's
        // start is the one of the latest point before it (a point is taken when the figures change).
        Assert.Equal(15.0, DeploymentPace.RateOver(points, 300, Start + TimeSpan.FromSeconds(20))!.Value, 3);
        Assert.Equal(10.0, DeploymentPace.RateOver(points, 1200, Start + TimeSpan.FromSeconds(100))!.Value, 3);
        Assert.Equal(0.0, DeploymentPace.RateOver(points, 1200, Start + TimeSpan.FromSeconds(200))!.Value, 3);
        Assert.Null(DeploymentPace.RateOver([], 0, Start));

        Assert.Equal("1 h 02 min", DeploymentPace.TimeLeft(3720));
        Assert.Equal("3 min 05 s", DeploymentPace.TimeLeft(185));
        Assert.Equal("—", DeploymentPace.TimeLeft(null));
    }

    [Theory]
    [Trait("Rule", "R8")]
    [InlineData(950, "950")]
    [InlineData(9_999, "9,999")]
    [InlineData(12_500, "12.5k")]
    [InlineData(1_250_000, "1.25M")]
    public void Axis_labels_are_compact(long value, string expected) => Assert.Equal(expected, DeliveryCharts.Compact(value));

    private static DateTimeOffset Hour(int hour) => new(2026, 11, 27, hour, 0, 0, TimeSpan.Zero);

    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    private static XName N(string name) => SvgNs + name;

    private static XElement Chart(string html)
    {
        var root = XElement.Parse(html);
        return root.Descendants(SvgNs + "svg").Single(s => s.Attribute("viewBox") is not null);
    }

    private static List<(double X, double Y)> Coordinates(XElement polyline) =>
        [.. Regex.Matches((string)polyline.Attribute("points")!, @"([\d.]+),([\d.]+)")
            .Select(m => (double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))];

    private static double Y(XElement text) => double.Parse((string)text.Attribute("y")!, System.Globalization.CultureInfo.InvariantCulture);

    private static double Height(XElement rect) => double.Parse((string)rect.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture);
}
