using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole.Charts;

/// <summary>The opens and clicks first counted in one UTC hour (the seed's hourly tracking).</summary>
public readonly record struct HourlyTracking(DateTimeOffset Hour, long Opens, long Clicks)
{
    /// <summary>The most hours a chart shows: the latest two weeks.</summary>
    public const int MaxHours = 14 * 24;

    /// <summary>
    /// Buckets the timeline's cumulative opens and clicks by UTC hour: an hour's figure is the count
    /// at its last point less the count at the end of the hour before (0 before the first point),
    /// every hour from the first point's to the last one's, hours without points included. A recount
    /// that lowers a figure (R8.7) shows as 0 in its hour, never as a negative bar. At most
    /// <paramref name="maxHours"/> hours, the latest.
    /// </summary>
    public static IReadOnlyList<HourlyTracking> Of(IReadOnlyList<TimelinePoint> points, int maxHours = MaxHours)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHours, 1);
        if (points.Count == 0)
        {
            return [];
        }

        var ordered = points.OrderBy(p => p.At).ToList();
        var first = HourOf(ordered[0].At);
        var last = HourOf(ordered[^1].At);
        var hours = new List<HourlyTracking>();
        long opensBefore = 0, clicksBefore = 0;
        var next = 0;
        for (var hour = first; hour <= last; hour = hour.AddHours(1))
        {
            long opens = opensBefore, clicks = clicksBefore;
            var end = hour.AddHours(1);
            while (next < ordered.Count && ordered[next].At < end)
            {
                opens = ordered[next].Opens;
                clicks = ordered[next].Clicks;
                next++;
            }

            hours.Add(new HourlyTracking(hour, Math.Max(0, opens - opensBefore), Math.Max(0, clicks - clicksBefore)));
            opensBefore = opens;
            clicksBefore = clicks;
        }

        return hours.Count > maxHours ? hours[^maxHours..] : hours;
    }

    private static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}
