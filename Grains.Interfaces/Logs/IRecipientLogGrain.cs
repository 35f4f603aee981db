using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;

namespace DeliveryGrains.Logs;

/// <summary>
/// One message's sending log (key "{deliveryId}/{profileId}"): the status machine of R4–R6,
/// retries after soft bounces (R7.1) and idempotent feedback.
/// </summary>
[Alias("IRecipientLogGrain")]
public interface IRecipientLogGrain : IGrainWithStringKey
{
    /// <summary>Relays the message to the MTA once; a repeated relay changes nothing and answers the current mark.</summary>
    [Alias("Relay")]
    Task<LogTransition> RelayAsync(RelayOrder order);

    [Alias("ApplyFeedback")]
    Task<FeedbackOutcome> ApplyFeedbackAsync(FeedbackEvent feedback);

    /// <summary>Several events about this message, applied in order and stored once; one outcome per event.</summary>
    [Alias("ApplyFeedbackBatch")]
    Task<IReadOnlyList<FeedbackOutcome>> ApplyFeedbackBatchAsync(IReadOnlyList<FeedbackEvent> feedback);

    /// <summary>
    /// Feedback brought by this log's own partition: applied and stored as by
    /// <see cref="ApplyFeedbackBatchAsync"/>, but the transitions are answered for the partition to fold
    /// rather than reported back to it, which saves a call per message on the MTA's busiest path.
    /// </summary>
    [Alias("TakeFeedbackFromPartition")]
    Task<IReadOnlyList<LogTransition>> TakeFeedbackFromPartitionAsync(IReadOnlyList<FeedbackEvent> feedback);

    /// <summary>R7.3: the validity period ended; a message still waiting fails (or stays unsent).</summary>
    [Alias("Expire")]
    Task<LogTransition> ExpireAsync(DateTimeOffset at);

    /// <summary>R2 stop: a retry still due will never be relayed; the message fails for good.</summary>
    [Alias("CancelRetry")]
    Task<LogTransition> CancelRetryAsync(DateTimeOffset at);

    [Alias("GetLog")]
    Task<SendingLog?> GetLogAsync();

    /// <summary>
    /// R12.1: the SMTP relay's answer to attempt <see cref="SmtpReply.Attempt"/>: a 250 after DATA
    /// relays the message, a refusal is that attempt's bounce. Deferrals never come here (R12.3).
    /// A reply for another attempt than the current one changes nothing.
    /// </summary>
    [Alias("RecordSmtpReply")]
    Task RecordSmtpReplyAsync(SmtpReply reply);
}

/// <summary>
/// The answer of one SMTP transaction: <see cref="Bounce"/> is null for a 250 after DATA, otherwise
/// the attempt's bounce as the qualification table made it (R12.2).
/// </summary>
[GenerateSerializer, Immutable, Alias("SmtpReply")]
public sealed record SmtpReply(
    [property: Id(0)] int Attempt,
    [property: Id(1)] DeliveryGrains.Feedback.FeedbackType? Bounce,
    [property: Id(2)] FailureReason? Reason,
    [property: Id(3)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("RelayOrder")]
public sealed record RelayOrder(
    [property: Id(0)] DeliveryRun Run,
    [property: Id(1)] int Partition,
    [property: Id(2)] int RecipientIndex,
    [property: Id(3)] string ProfileId,
    [property: Id(4)] string Address,
    [property: Id(5)] IReadOnlyDictionary<string, string>? Fields = null);

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
