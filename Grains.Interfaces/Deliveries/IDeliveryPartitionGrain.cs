using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using Orleans.Concurrency;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// A slice of one delivery's recipients (key "{deliveryId}/{index}"): relays its messages with
/// bounded concurrency, mirrors each recipient's <see cref="LogMark"/> and flushes its counts to
/// the delivery in batches, so the delivery never receives one call per recipient.
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

    /// <summary>Whether a log of this slice may relay a retry now. Reads one field: safe to interleave.</summary>
    [AlwaysInterleave, ReadOnly, Alias("GetRelayState")]
    Task<RelayState> GetRelayStateAsync();

    /// <summary>A log of this partition moved. Only folds counters, never awaits: safe to interleave.</summary>
    [AlwaysInterleave, Alias("ReportTransition")]
    Task ReportTransitionAsync(LogTransition transition);

    /// <summary>
    /// MTA feedback for several logs of this slice, one entry per log, handed to each log and folded
    /// from the transitions the logs answer. Answers the recipient indices whose log could not take
    /// its feedback (the caller may send them again: event ids make a repeat harmless). Between its
    /// awaits it only folds marks, as relaying does, so it interleaves with the slice's other work.
    /// </summary>
    [AlwaysInterleave, Alias("ApplyFeedback")]
    Task<IReadOnlyList<int>> ApplyFeedbackAsync(IReadOnlyList<LogFeedback> feedback);

    /// <summary>R7.3: the validity period is over; every log still waiting settles for good. Answers the final counts.</summary>
    [Alias("Expire")]
    Task<PartitionCounts> ExpireAsync(DateTimeOffset at);

    /// <summary>R8.7: asks every log of the slice for its mark, rebuilds the counts and flushes them.</summary>
    [Alias("Recount"), ResponseTimeout("00:15:00")]
    Task<PartitionCounts> RecountAsync();

    /// <summary>
    /// Up to <paramref name="limit"/> logs after recipient index <paramref name="after"/> that
    /// <paramref name="filter"/> keeps, reading at most <paramref name="readBudget"/> logs.
    /// </summary>
    [Alias("ListFilteredLogs")]
    Task<PartitionLogPage> ListLogsAsync(int after, LogFilter filter, int limit, int readBudget, bool emailFeedbackService);

    /// <summary>A profile's log in this slice, or null when the profile is not in it.</summary>
    [Alias("FindLog")]
    Task<SendingLog?> FindLogAsync(string profileId, bool emailFeedbackService);

    /// <summary>The slice's messages counted per destination domain (R8 counts; deferrals and rates are the relays'). Reads only: safe to interleave.</summary>
    [AlwaysInterleave, ReadOnly, Alias("CountByDomain")]
    Task<IReadOnlyList<DomainStats>> CountByDomainAsync(bool emailFeedbackService);
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

/// <summary>What a partition receives at preparation: its candidates in target order, already unique and valid.</summary>
[GenerateSerializer, Immutable, Alias("PartitionPlan")]
public sealed record PartitionPlan(
    [property: Id(0)] string DeliveryId,
    [property: Id(1)] Channel Channel,
    [property: Id(2)] IReadOnlyList<Recipient> Candidates);

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
