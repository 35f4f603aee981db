using DeliveryGrains.Feedback;

namespace DeliveryGrains.Tracking;

/// <summary>
/// One answered tracking request (R13.2) for a log of a partition: an <see cref="FeedbackType.Open"/>
/// (the pixel) or a <see cref="FeedbackType.Click"/> on link <see cref="Link"/> whose original URL is
/// <see cref="Url"/>. <see cref="HitId"/> is made once per request, so a batch offered again after a
/// failure is applied once (R4, R13.2).
/// </summary>
[GenerateSerializer, Immutable, Alias("TrackingHit")]
public sealed record TrackingHit(
    [property: Id(0)] int RecipientIndex,
    [property: Id(1)] string ProfileId,
    [property: Id(2)] Guid HitId,
    [property: Id(3)] FeedbackType Type,
    [property: Id(4)] int Link,
    [property: Id(5)] string? Url,
    [property: Id(6)] DateTimeOffset At);

/// <summary>R13.3: one tracked link of a delivery: its original URL, its clicks and the recipients who clicked it.</summary>
[GenerateSerializer, Immutable, Alias("LinkCount")]
public sealed record LinkCount(
    [property: Id(0)] int Link,
    [property: Id(1)] string Url,
    [property: Id(2)] long Clicks,
    [property: Id(3)] long UniqueClicks);

/// <summary>What a recipient was sent: the recipient (with its fields), the run's settings (with the content) and the latest attempt.</summary>
[GenerateSerializer, Immutable, Alias("SentMessage")]
public sealed record SentMessage(
    [property: Id(0)] DeliveryGrains.Deliveries.Recipient Recipient,
    [property: Id(1)] DeliveryGrains.Deliveries.DeliveryRun Run,
    [property: Id(2)] int Attempt);

/// <summary>What a recipient's own answer (R13.4 unsubscribe, R13.5 complaint) did to its log.</summary>
[Alias("AnswerOutcome")]
public enum AnswerOutcome
{
    /// <summary>Recorded: the address is now OnDenylist and the delivery counts it.</summary>
    Recorded,

    /// <summary>The same recipient had already answered so for this delivery: counted once, the address is OnDenylist all the same.</summary>
    AlreadyRecorded,

    /// <summary>The slice never relayed a message to that recipient: nothing changed.</summary>
    NoMessage,
}

/// <summary>
/// The secret the tracking tokens are signed with when <c>Tracking:SigningKey</c> is not set: made
/// once, at the first ask, and stored with the engine's other data, so every silo of the cluster and
/// every restart sign and check with the same key. One activation serves the cluster, read once per
/// silo and then kept in memory: never on the busy path.
/// </summary>
[Alias("ITrackingKeyGrain")]
public interface ITrackingKeyGrain : IGrainWithIntegerKey
{
    [Alias("GetKey")]
    Task<byte[]> GetKeyAsync();
}
