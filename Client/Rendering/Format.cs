using System.Globalization;

namespace DeliveryGrains.Client.Rendering;

/// <summary>Numbers, rates and instants as the client prints them (invariant culture).</summary>
public static class Format
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    public static string Milliseconds(double value) => value.ToString(value < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " ms";

    public static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>The time zone instants are shown in: the machine's own.</summary>
    public static TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Local;

    /// <summary>An instant in local time with its zone: "2026-11-29 00:13:39 +01:00", or "… UTC" where local time is UTC; "-" for none.</summary>
    public static string Instant(DateTimeOffset? value)
    {
        if (value is not { } v)
        {
            return "-";
        }

        var local = TimeZoneInfo.ConvertTime(v, TimeZone);
        var zone = local.Offset == TimeSpan.Zero ? "UTC" : local.ToString("zzz", CultureInfo.InvariantCulture);
        return local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + zone;
    }

    /// <summary>A duration for people: "3 d 12 h", "1 h 30 min", "45 s", "0.5 s".</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            return "-" + Duration(value.Negate());
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            return value == TimeSpan.Zero ? "0 s" : value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
        }

        if (value < TimeSpan.FromMinutes(1))
        {
            return (value.Seconds + value.Milliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + " s";
        }

        // The largest unit and the next one when it is not zero: "3 d 12 h", "1 h", "2 min 30 s".
        (int Amount, string Unit)[] units = [(value.Days, "d"), (value.Hours, "h"), (value.Minutes, "min"), (value.Seconds, "s")];
        var first = Array.FindIndex(units, u => u.Amount > 0);
        var shown = units.Skip(first).Take(2).Where(u => u.Amount > 0).Select(u => $"{u.Amount} {u.Unit}");
        return string.Join(' ', shown);
    }

    /// <summary>"in 4 min" or "4 min ago", measured from <paramref name="now"/>.</summary>
    public static string Relative(DateTimeOffset at, DateTimeOffset now)
    {
        var delta = at - now;

        // To the second within the hour, to the minute beyond: a week ahead less the time it took to say so is "in 7 d".
        var unit = Math.Abs(delta.TotalHours) < 1 ? 1 : 60;
        var rounded = TimeSpan.FromSeconds(Math.Round(Math.Abs(delta.TotalSeconds) / unit) * unit);
        return rounded < TimeSpan.FromSeconds(1) ? "now" : delta > TimeSpan.Zero ? "in " + Duration(rounded) : Duration(rounded) + " ago";
    }

    /// <summary>"Email or Sms", "Day, Week or Month".</summary>
    public static string Choices(IReadOnlyList<string> names) =>
        names.Count <= 1 ? string.Concat(names) : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];
}
