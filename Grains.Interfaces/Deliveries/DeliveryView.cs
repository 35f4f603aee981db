namespace DeliveryGrains.Deliveries;

/// <summary>The Deployment block (R8). Rates are percentages 0–100, unrounded.</summary>
[GenerateSerializer, Immutable, Alias("Kpis")]
public sealed record Kpis(
    [property: Id(0)] long ToDeliver,
    [property: Id(1)] long Sent,
    [property: Id(2)] long Delivered,
    [property: Id(3)] double DeliveredRate,
    [property: Id(4)] long BouncesAndErrors,
    [property: Id(5)] double BouncesAndErrorsRate,
    [property: Id(6)] long Opens,
    [property: Id(7)] double OpenRate,
    [property: Id(8)] long Clicks,
    [property: Id(9)] double ClickThroughRate,
    [property: Id(10)] long Pending,
    [property: Id(11)] long AwaitingRetry,
    [property: Id(12)] DateTimeOffset ComputedAt,
    [property: Id(13)] long Unsubscriptions = 0,
    [property: Id(14)] long Complaints = 0)
{
    /// <summary>R8.8: every message to deliver was sent and none waits for an outcome or a retry.</summary>
    public bool Settled => Sent == ToDeliver && Pending == 0 && AwaitingRetry == 0;

    public double Progress => ToDeliver == 0 ? 0 : (double)Sent / ToDeliver;

    /// <summary>The Deployment block for these counts, with the rates of R8 (a rate over nothing is 0, R8.6).</summary>
    public static Kpis Of(
        long toDeliver, long sent, long delivered, long bouncesAndErrors, long opens, long clicks,
        long pending, long awaitingRetry, DateTimeOffset computedAt) => new(
        ToDeliver: toDeliver,
        Sent: sent,
        Delivered: delivered,
        DeliveredRate: Percent(delivered, sent),
        BouncesAndErrors: bouncesAndErrors,
        BouncesAndErrorsRate: Percent(bouncesAndErrors, sent),
        Opens: opens,
        OpenRate: Percent(opens, delivered),
        Clicks: clicks,
        ClickThroughRate: Percent(clicks, delivered),
        Pending: pending,
        AwaitingRetry: awaitingRetry,
        ComputedAt: computedAt);

    private static double Percent(long part, long whole) => whole == 0 ? 0 : part * 100.0 / whole;
}

[GenerateSerializer, Immutable, Alias("DeliveryView")]
public sealed record DeliveryView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] Channel Channel,
    [property: Id(3)] DeliveryStatus Status,
    [property: Id(4)] bool EmailFeedbackService,
    [property: Id(5)] TimeSpan ValidityPeriod,
    [property: Id(6)] DateTimeOffset? ValidUntil,
    [property: Id(7)] DateTimeOffset? SendAt,
    [property: Id(8)] IReadOnlyList<string> Warnings,
    [property: Id(9)] Kpis Kpis,
    [property: Id(10)] TimeSpan RetryPeriod,
    [property: Id(11)] int MaxRetries,
    [property: Id(12)] bool RequestConfirmation,
    [property: Id(13)] MtaSettings Mta,
    [property: Id(14)] string CreatedBy,
    [property: Id(15)] int TargetSize,
    [property: Id(16)] Recurrence? Recurrence = null,
    [property: Id(17)] string? TemplateId = null,
    [property: Id(18)] IReadOnlyList<Content.ProofEntry>? Proofs = null,
    [property: Id(19)] DateTimeOffset? StartedAt = null);

/// <summary>One run of a recurring delivery, or one aggregation period's sum of runs (R3.3, R3.4).</summary>
[GenerateSerializer, Immutable, Alias("Execution")]
public sealed record Execution(
    [property: Id(0)] string Id,
    [property: Id(1)] DeliveryStatus Status,
    [property: Id(2)] string Period,
    [property: Id(3)] Kpis Kpis,
    [property: Id(4)] IReadOnlyList<string> Runs);

/// <summary>What a run tells its recurring template: its status and its summed counts, the latest version wins.</summary>
[GenerateSerializer, Immutable, Alias("RunReport")]
public sealed record RunReport(
    [property: Id(0)] int Index,
    [property: Id(1)] long Version,
    [property: Id(2)] DeliveryStatus Status,
    [property: Id(3)] PartitionCounts Counts,
    [property: Id(4)] long PublishedOpens,
    [property: Id(5)] long PublishedClicks);

[GenerateSerializer, Immutable, Alias("PreparationResult")]
public sealed record PreparationResult(
    [property: Id(0)] long ToDeliver,
    [property: Id(1)] IReadOnlyDictionary<ExclusionReason, int> Excluded);

[GenerateSerializer, Immutable, Alias("ExclusionEntry")]
public sealed record ExclusionEntry(
    [property: Id(0)] string ProfileId,
    [property: Id(1)] string? Address,
    [property: Id(2)] ExclusionReason Reason);

[GenerateSerializer, Immutable, Alias("ExclusionPage")]
public sealed record ExclusionPage(
    [property: Id(0)] IReadOnlyList<ExclusionEntry> Items,
    [property: Id(1)] int Total);
