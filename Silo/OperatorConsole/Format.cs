using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>How the console writes figures, instants and statuses: one place, invariant culture, UTC (the script shows instants in the browser's zone).</summary>
public static class Format
{
    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double value) => value.ToString("0.#", CultureInfo.InvariantCulture) + " %";

    /// <summary>"50 MiB", "256 KiB", "1,000 bytes".</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes",
    };

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Count(long count, string noun, string? plural = null) =>
        $"{count.ToString("N0", CultureInfo.InvariantCulture)} {(count == 1 ? noun : plural ?? noun + "s")}";

    /// <summary>"2026-11-29 09:00 UTC", or "at confirmation" when there is no contact date.</summary>
    public static string Instant(DateTimeOffset? at, string none = "at confirmation") =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC" : none;

    /// <summary>
    /// An instant for a page: <c>&lt;time datetime="…Z" title="… UTC"&gt;</c> reading UTC, which the
    /// console's script rewrites in the browser's zone (the UTC instant stays on hover); <paramref name="none"/> when null.
    /// </summary>
    public static IHtmlContent Time(DateTimeOffset? at, string none = "at confirmation")
    {
        if (at is not { } value)
        {
            return new HtmlString(HtmlEncoder.Default.Encode(none));
        }

        var utc = value.UtcDateTime;
        var iso = utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var full = utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
        return new HtmlString($"<time datetime=\"{iso}\" title=\"{full}\" data-local>{Instant(value)}</time>");
    }

    /// <summary>"3 d 12 h", "1 h", "30 min", "45 s".</summary>
    public static string Duration(TimeSpan span)
    {
        var parts = new List<string>();
        if (span.Days > 0)
        {
            parts.Add($"{span.Days} d");
        }

        if (span.Hours > 0)
        {
            parts.Add($"{span.Hours} h");
        }

        if (span.Minutes > 0)
        {
            parts.Add($"{span.Minutes} min");
        }

        if (span.Seconds > 0 || parts.Count == 0)
        {
            parts.Add($"{span.Seconds} s");
        }

        return string.Join(' ', parts);
    }

    /// <summary>"In progress" for InProgress: the words the seed's Deployment block uses.</summary>
    public static string Status(DeliveryStatus status) => status switch
    {
        DeliveryStatus.InProgress => "In progress",
        _ => status.ToString(),
    };
}
