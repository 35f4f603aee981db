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
