using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tracking;
using Orleans.Concurrency;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// A slice of one delivery's recipients (key "{deliveryId}/{index}"). It owns its recipients' sending
/// logs in compact columns: relays its messages, applies the MTA's feedback to them in bulk, stores
/// them as one value and flushes its counts to the delivery in batches, so the delivery never
/// receives one call per recipient and no recipient costs an activation on the busy path.
/// A log addressed on its own (<see cref="Logs.IRecipientLogGrain"/>) reads and changes its slot here.
/// </summary>
[Alias("IDeliveryPartitionGrain")]
public interface IDeliveryPartitionGrain : IGrainWithStringKey
{
    /// <summary>Takes this slice's candidates, excludes quarantined and denylisted addresses (R9.6) and keeps the rest.</summary>
    [Alias("Prepare")]
    Task<PartitionPreparation> PrepareAsync(PartitionPlan plan);

    /// <summary>Relays up to <paramref name="max"/> messages not relayed yet; answers how many remain.</summary>
    [Alias("RelayNext")]
    Task<int> RelayNextAsync(DeliveryRun run, int max);

    /// <summary>
    /// Pause, resume or stop the slice's relaying. Stopping also ends every retry still due: those
    /// messages fail for good. Answers the slice's counts afterwards.
    /// </summary>
    [Alias("ChangeRelayState")]
    Task<PartitionCounts> ChangeRelayStateAsync(RelayState state, DateTimeOffset at);

    /// <summary>Whether the slice may relay now. Reads one field: safe to interleave.</summary>
    /// <summary>
    /// R12.1: relays again, with the same attempt and Message-ID, the messages this slice handed to a
    /// relay queue that is gone (its silo died or left) before they were answered. Not interleaved
    /// with <see cref="RelayNextAsync"/>, so a message handed meanwhile is never taken for a lost one.
    /// Answers how many went again.
    /// </summary>
    [Alias("ResumeHanded")]
    Task<int> ResumeHandedAsync();

    [AlwaysInterleave, ReadOnly, Alias("GetRelayState")]
    Task<RelayState> GetRelayStateAsync();

    /// <summary>
    /// MTA feedback for several logs of this slice, one entry per log, applied in order and stored
    /// before the answer; what it asks of the logs' retry reminders follows in the background. Answers
    /// the recipient indices whose message this slice never relayed (their feedback changed nothing).
    /// </summary>
    [AlwaysInterleave, Alias("ApplyFeedback")]
    Task<IReadOnlyList<int>> ApplyFeedbackAsync(IReadOnlyList<LogFeedback> feedback);

    /// <summary>
    /// R13.2, R13.3: answered opens and clicks of this slice's logs, applied through the same
    /// exactly-once path as MTA feedback (a hit id is taken once) and stored before the answer. Answers
    /// the recipient indices the slice never relayed to, or whose profile is not the one named.
    /// </summary>
    [AlwaysInterleave, Alias("ApplyTracking")]
    Task<IReadOnlyList<int>> ApplyTrackingAsync(IReadOnlyList<TrackingHit> hits);

    /// <summary>
    /// R13.4, R13.5: the recipient at <paramref name="recipientIndex"/> (profile <paramref name="profileId"/>)
    /// unsubscribed: its address goes OnDenylist with reason Unsubscribed and the delivery counts one
    /// unsubscription (once per recipient). Stored before the answer. A negative index finds the recipient by profile id.
    /// </summary>
    [AlwaysInterleave, Alias("Unsubscribe")]
    Task<AnswerOutcome> UnsubscribeAsync(int recipientIndex, string profileId, DateTimeOffset at);

    /// <summary>What was sent to the recipient at <paramref name="recipientIndex"/>, for the mirror page; null when nothing was.</summary>
    [AlwaysInterleave, ReadOnly, Alias("FindSentMessage")]
    Task<SentMessage?> FindSentMessageAsync(int recipientIndex, string profileId);

    /// <summary>R13.3: the slice's clicks per link.</summary>
    [AlwaysInterleave, ReadOnly, Alias("ListLinks")]
    Task<IReadOnlyList<LinkCount>> ListLinksAsync();

    /// <summary>
    /// Feedback about one profile's log, brought by that log's grain: applied and stored as by
    /// <see cref="ApplyFeedbackAsync"/>; the log's grain carries out the retry command it answers.
    /// </summary>
    [AlwaysInterleave, Alias("ApplyLogFeedback")]
    Task<LogFeedbackAnswer> ApplyLogFeedbackAsync(string profileId, IReadOnlyList<FeedbackEvent> feedback);

    /// <summary>
    /// R12.1: the SMTP relay's answer to one attempt of the log at <paramref name="recipientIndex"/>:
    /// a 250 after DATA relays the message, a refusal is that attempt's bounce. A reply for another
    /// attempt than the current one changes nothing.
    /// </summary>
    [AlwaysInterleave, Alias("RecordSmtpReply")]
    Task RecordSmtpReplyAsync(int recipientIndex, SmtpReply reply);

    /// <summary>
    /// The SMTP relay's answers to many attempts of this slice, applied as <see cref="RecordSmtpReplyAsync"/>
    /// applies one and stored once for all. Answers the recipient indices that have no relayed message.
    /// </summary>
    [AlwaysInterleave, Alias("RecordSmtpReplies")]
    Task<IReadOnlyList<int>> RecordSmtpRepliesAsync(IReadOnlyList<IndexedSmtpReply> replies);

    /// <summary>R7.1: a log's retry reminder fired; relays the retry if it is still due and allowed now.</summary>
    [AlwaysInterleave, Alias("RelayRetry")]
    Task<RetryAnswer> RelayRetryAsync(string profileId);

    /// <summary>R7.3: the validity period is over; every log still waiting settles for good. Answers the final counts.</summary>
    [Alias("Expire")]
    Task<PartitionCounts> ExpireAsync(DateTimeOffset at);

    /// <summary>R8.7: recounts the slice from its stored logs and answers the counts, newer than any flush before.</summary>
    [Alias("Recount"), ResponseTimeout("00:15:00")]
    Task<PartitionCounts> RecountAsync();

    /// <summary>
    /// Up to <paramref name="limit"/> logs after recipient index <paramref name="after"/> that
    /// <paramref name="filter"/> keeps, reading at most <paramref name="readBudget"/> logs.
    /// </summary>
    [AlwaysInterleave, ReadOnly, Alias("ListFilteredLogs")]
    Task<PartitionLogPage> ListLogsAsync(int after, LogFilter filter, int limit, int readBudget, bool emailFeedbackService);

    /// <summary>How many of the slice's logs <paramref name="filter"/> keeps: the whole slice is looked at, no budget.</summary>
    [AlwaysInterleave, ReadOnly, Alias("CountFilteredLogs")]
    Task<int> CountLogsAsync(LogFilter filter, bool emailFeedbackService);

    /// <summary>Up to <paramref name="limit"/> of the logs <paramref name="filter"/> keeps, after the first <paramref name="skip"/> of them.</summary>
    [AlwaysInterleave, ReadOnly, Alias("PageFilteredLogs")]
    Task<IReadOnlyList<SendingLog>> PageLogsAsync(int skip, LogFilter filter, int limit, bool emailFeedbackService);

    /// <summary>A profile's log in this slice (ToDeliver before its relay), or null when the profile is not in it.</summary>
    [AlwaysInterleave, ReadOnly, Alias("FindLog")]
    Task<SendingLog?> FindLogAsync(string profileId, bool emailFeedbackService);

    /// <summary>A profile's log once its message was handed to an MTA; null before that or when the profile is not in the slice.</summary>
    [AlwaysInterleave, ReadOnly, Alias("ReadLog")]
    Task<SendingLog?> ReadLogAsync(string profileId);

    /// <summary>The slice's messages counted per destination domain (R8 counts; deferrals and rates are the relays'). Reads only: safe to interleave.</summary>
    [AlwaysInterleave, ReadOnly, Alias("CountByDomain")]
    Task<IReadOnlyList<DomainStats>> CountByDomainAsync(bool emailFeedbackService);

    /// <summary>The slice's bounces and errors (R8.3) by failure type and reason. Reads only: safe to interleave.</summary>
    [AlwaysInterleave, ReadOnly, Alias("CountBounces")]
    Task<IReadOnlyList<BounceCount>> CountBouncesAsync(bool emailFeedbackService);
}

/// <summary>What a partition answers a log's grain that brought feedback: one outcome per event, and what its retry reminder must do.</summary>
[GenerateSerializer, Immutable, Alias("LogFeedbackAnswer")]
public sealed record LogFeedbackAnswer(
    [property: Id(0)] IReadOnlyList<FeedbackOutcome> Outcomes,
    [property: Id(1)] RetryCommand Retry,
    [property: Id(2)] TimeSpan RetryPeriod);

/// <summary>What a log's retry reminder does after it fired; <see cref="WaitFor"/> is how long a retry that is not relayed yet still waits.</summary>
[GenerateSerializer, Immutable, Alias("RetryAnswer")]
public sealed record RetryAnswer(
    [property: Id(0)] RetryOutcome Outcome,
    [property: Id(1)] TimeSpan WaitFor);

[Alias("RetryOutcome")]
public enum RetryOutcome
{
    /// <summary>The retry went out, or the log settled instead (validity over, delivery stopped): the reminder goes.</summary>
    Done,

    /// <summary>Nothing is due (the log moved on): the reminder goes.</summary>
    NothingDue,

    /// <summary>R2: the delivery is paused; the retry waits one more retry period.</summary>
    Paused,

    /// <summary>The reminder fired before the retry is due (a late registration, a clock between silos): it waits the rest.</summary>
    NotYet,
}

/// <summary>Feedback events about one log of a partition, by its recipient index.</summary>
[GenerateSerializer, Immutable, Alias("LogFeedback")]
public sealed record LogFeedback(
    [property: Id(0)] int RecipientIndex,
    [property: Id(1)] IReadOnlyList<FeedbackEvent> Events);

/// <summary>A page of one partition's logs; <see cref="NextAfter"/> is where to go on, null at the end of the slice.</summary>
[GenerateSerializer, Immutable, Alias("PartitionLogPage")]
public sealed record PartitionLogPage(
    [property: Id(0)] IReadOnlyList<SendingLog> Items,
    [property: Id(1)] int? NextAfter,
    [property: Id(2)] int Read = 0);

[Alias("RelayState")]
public enum RelayState
{
    Running,
    Paused,
    Stopped,
}

/// <summary>
/// What a partition receives at preparation: its candidates in target order, already unique and
/// valid; for a generated target, <see cref="Generated"/> instead, so no recipient is made before
/// its partition needs it.
/// </summary>
[GenerateSerializer, Immutable, Alias("PartitionPlan")]
public sealed record PartitionPlan(
    [property: Id(0)] string DeliveryId,
    [property: Id(1)] Channel Channel,
    [property: Id(2)] IReadOnlyList<Recipient> Candidates,
    [property: Id(3)] GeneratedSlice? Generated = null);

/// <summary>
/// A slice of a generated target as its target indices (ascending): recipient <c>i</c> of
/// <see cref="Target"/> is made from <c>i</c> when needed, 4 bytes a recipient instead of its
/// strings. <see cref="Scenario"/> is the simulator scenario whose domains the addresses go on (R12.5).
/// </summary>
[GenerateSerializer, Immutable, Alias("GeneratedSlice")]
public sealed record GeneratedSlice(
    [property: Id(0)] GeneratedTarget Target,
    [property: Id(1)] Channel Channel,
    [property: Id(2)] SimulatorScenario? Scenario,
    [property: Id(3)] int[] Members);

[GenerateSerializer, Immutable, Alias("PartitionPreparation")]
public sealed record PartitionPreparation(
    [property: Id(0)] PartitionCounts Counts,
    [property: Id(1)] IReadOnlyList<ExclusionEntry> Exclusions);

/// <summary>The settings every message of a running delivery is relayed with.</summary>
[GenerateSerializer, Immutable, Alias("DeliveryRun")]
public sealed record DeliveryRun(
    [property: Id(0)] string DeliveryId,
    [property: Id(1)] Channel Channel,
    [property: Id(2)] bool EmailFeedbackService,
    [property: Id(3)] TimeSpan RetryPeriod,
    [property: Id(4)] int MaxRetries,
    [property: Id(5)] DateTimeOffset ValidUntil,
    [property: Id(6)] MtaSettings Mta);
