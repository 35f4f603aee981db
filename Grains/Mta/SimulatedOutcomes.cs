using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Mta;

/// <summary>
/// What the simulated Enhanced MTA answers to one attempt: a pure function of the seed, the
/// recipient and the attempt number, so the same seed gives every recipient the same story.
/// </summary>
public static class SimulatedOutcomes
{
    private static readonly FailureReason[] SoftReasons =
        [FailureReason.MailboxFull, FailureReason.Unreachable, FailureReason.Refused, FailureReason.InvalidDomain];

    public static IReadOnlyList<FeedbackEvent> For(OutboundMessage message, DateTimeOffset at)
    {
        var mta = message.Mta;
        var events = new List<FeedbackEvent>(3);
        var roll = Uniform(mta.Seed, message.ProfileId, message.Attempt);
        var delivered = message.Attempt == 1
            ? Classify(roll, mta, events, message, at)
            : roll < mta.RetrySuccessRate || Add(events, message, FeedbackType.SoftBounce, SoftReason(mta, message), at);
        if (delivered)
        {
            Add(events, message, FeedbackType.Delivered, null, at);
            if (message.Channel == Channel.Email)
            {
                // One roll for both: clickers are a subset of openers, as every clicker also opens.
                var engagement = Uniform(mta.Seed, message.ProfileId, -1);
                if (engagement < Math.Max(mta.OpenRate, mta.ClickRate))
                {
                    Add(events, message, FeedbackType.Open, null, at);
                }

                if (engagement < mta.ClickRate)
                {
                    Add(events, message, FeedbackType.Click, null, at);
                }
            }
        }

        return events;
    }

    private static bool Classify(double roll, MtaSettings mta, List<FeedbackEvent> events, OutboundMessage message, DateTimeOffset at)
    {
        if (roll < mta.HardBounceRate)
        {
            return Add(events, message, FeedbackType.HardBounce, FailureReason.UserUnknown, at);
        }

        if (roll < mta.HardBounceRate + mta.SoftBounceRate)
        {
            return Add(events, message, FeedbackType.SoftBounce, SoftReason(mta, message), at);
        }

        return true;
    }

    private static FailureReason SoftReason(MtaSettings mta, OutboundMessage message) =>
        SoftReasons[(int)(Uniform(mta.Seed, message.ProfileId, -2 - message.Attempt) * SoftReasons.Length)];

    /// <summary>
    /// Adds an event and answers false (not delivered). Event ids are kept by the log they concern,
    /// so the attempt and the type are enough to make one unique; short ids keep per-log state small.
    /// </summary>
    private static bool Add(List<FeedbackEvent> events, OutboundMessage message, FeedbackType type, FailureReason? reason, DateTimeOffset at)
    {
        events.Add(new FeedbackEvent(EventId(message.Attempt, type), message.DeliveryId, message.ProfileId, type, reason, at));
        return false;
    }

    /// <summary>The ids of the first attempts' events, made once: a million logs then share a few dozen strings.</summary>
    private static readonly string[][] EventIds = [.. Enumerable.Range(0, 16).Select(attempt =>
        Enum.GetValues<FeedbackType>().Select(type => $"sim:{attempt}:{type}").ToArray())];

    private static string EventId(int attempt, FeedbackType type) =>
        attempt < EventIds.Length ? EventIds[attempt][(int)type] : $"sim:{attempt}:{type}";

    /// <summary>A uniform number in [0, 1) from the seed, the recipient and a salt (FNV-1a, then a 64-bit mix).</summary>
    internal static double Uniform(int seed, string profileId, int salt)
    {
        var hash = 14695981039346656037UL ^ (ulong)(uint)seed;
        foreach (var c in profileId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash ^= (ulong)(uint)salt * 0x9E3779B97F4A7C15UL;
        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
