using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Silo.OperatorConsole.Live;

/// <summary>
/// The live Deployment feed (configuration section <c>LiveFeed</c>): how often the one watcher of a
/// watched delivery reads its view, how often at most it fetches new timeline points, and how far a
/// subscriber may fall behind before it is let go (a browser's EventSource then reconnects on its own).
/// </summary>
public sealed class LiveFeedOptions
{
    public const string Section = "LiveFeed";

    /// <summary>How often a watched delivery's view is read (default 250 ms: a change shows within 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:01")]
    public TimeSpan PollPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The shortest time between two timeline fetches (the grain takes at most one point a second).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan TimelinePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Events a subscriber may leave unread before it is disconnected.</summary>
    [Range(4, 10_000)]
    public int SubscriberBuffer { get; set; } = 64;
}
