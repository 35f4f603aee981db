using DeliveryGrains.Logs;

namespace DeliveryGrains.Feedback;

[Alias("FeedbackType")]
public enum FeedbackType
{
    Delivered,
    HardBounce,
    SoftBounce,
    Open,
    Click,
    Complaint,
}

/// <summary>What an MTA reports about one message; <see cref="EventId"/> is applied at most once.</summary>
[GenerateSerializer, Immutable, Alias("FeedbackEvent")]
public sealed record FeedbackEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string DeliveryId,
    [property: Id(2)] string ProfileId,
    [property: Id(3)] FeedbackType Type,
    [property: Id(4)] FailureReason? Reason,
    [property: Id(5)] DateTimeOffset At);

[Alias("FeedbackOutcome")]
public enum FeedbackOutcome
{
    /// <summary>The event moved the log, or was recorded on a final log (R7.4).</summary>
    Accepted,

    /// <summary>The event id was seen before: nothing changed.</summary>
    Duplicate,
}

/// <summary>
/// When an MTA's report may say it happened: not after the silo's clock plus a small skew (a
/// report from the future would stand as an address's last error for years and stop later soft
/// bounces from counting, R9.2), and not longer ago than the oldest report the engine takes.
/// </summary>
public static class FeedbackWindow
{
    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromDays(30);

    /// <summary>Null when <paramref name="at"/> is inside the window, else what is wrong with it.</summary>
    public static string? Problem(DateTimeOffset at, DateTimeOffset now, TimeSpan clockSkew, TimeSpan maxAge)
    {
        var latest = now + clockSkew;
        var earliest = now - maxAge;
        return at > latest || at < earliest
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"at {at:yyyy-MM-ddTHH:mm:ssZ} is outside the accepted window: from {earliest.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} (now less {maxAge:c}) to {latest.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} (now plus {clockSkew:c})")
            : null;
    }
}
