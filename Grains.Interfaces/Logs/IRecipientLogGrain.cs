using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;

namespace DeliveryGrains.Logs;

/// <summary>
/// The one address of one recipient's sending log (key "{deliveryId}/{profileId}"). The log's state
/// lives in its partition (<see cref="Deliveries.IDeliveryPartitionGrain"/>), which changes it; this
/// grain is activated only when the log is addressed on its own: feedback from an external MTA, a
/// read, and the retry after a soft bounce (R7.1), whose reminder it holds.
/// </summary>
[Alias("IRecipientLogGrain")]
public interface IRecipientLogGrain : IGrainWithStringKey
{
    [Alias("ApplyFeedback")]
    Task<FeedbackOutcome> ApplyFeedbackAsync(FeedbackEvent feedback);

    /// <summary>Several events about this message, applied in order and stored once; one outcome per event.</summary>
    [Alias("ApplyFeedbackBatch")]
    Task<IReadOnlyList<FeedbackOutcome>> ApplyFeedbackBatchAsync(IReadOnlyList<FeedbackEvent> feedback);

    /// <summary>
    /// R13.4: the recipient asked by mail to unsubscribe: the address goes OnDenylist (reason
    /// Unsubscribed) and the delivery counts it once; <see cref="Tracking.AnswerOutcome.NoMessage"/>
    /// when no message was handed to this recipient (nothing changes).
    /// </summary>
    [Alias("Unsubscribe")]
    Task<Tracking.AnswerOutcome> UnsubscribeAsync(DateTimeOffset at);

    /// <summary>The log, or null until its message was handed to an MTA.</summary>
    [Alias("GetLog")]
    Task<SendingLog?> GetLogAsync();

    /// <summary>
    /// Carries out what the partition decided for this log's retry after storing the change: sets the
    /// reminder <paramref name="retryPeriod"/> ahead, sets it if missing, or drops it.
    /// </summary>
    [Alias("CommandRetry")]
    Task CommandRetryAsync(RetryCommand command, TimeSpan retryPeriod);
}

/// <summary>
/// The answer of one SMTP transaction: <see cref="Bounce"/> is null for a 250 after DATA, otherwise
/// the attempt's bounce as the qualification table made it (R12.2). <see cref="ContentFailed"/>: the
/// message could not be rendered (R14.1), so it failed here; the address is not to blame.
/// </summary>
[GenerateSerializer, Immutable, Alias("SmtpReply")]
public sealed record SmtpReply(
    [property: Id(0)] int Attempt,
    [property: Id(1)] DeliveryGrains.Feedback.FeedbackType? Bounce,
    [property: Id(2)] FailureReason? Reason,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] bool ContentFailed = false);

/// <summary>The SMTP relay's answer to the log at <paramref name="RecipientIndex"/> of a partition.</summary>
[GenerateSerializer, Immutable, Alias("IndexedSmtpReply")]
public sealed record IndexedSmtpReply(
    [property: Id(0)] int RecipientIndex,
    [property: Id(1)] SmtpReply Reply);

public static class GrainKeys
{
    public static string Log(string deliveryId, string profileId) => $"{deliveryId}/{profileId}";

    public static string Partition(string deliveryId, int index) => $"{deliveryId}/{index}";

    /// <summary>Splits "{deliveryId}/{rest}"; delivery ids never hold a '/'.</summary>
    public static (string DeliveryId, string Tail) Split(string key)
    {
        var slash = key.IndexOf('/');
        return slash < 0 ? (key, "") : (key[..slash], key[(slash + 1)..]);
    }
}
