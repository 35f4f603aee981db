using Orleans.Concurrency;

using DeliveryGrains.Logs;

namespace DeliveryGrains.Deliveries;

/// <summary>One delivery: its definition, lifecycle (R2), validity period (R7) and the top of the KPI rollup (R8).</summary>
[Alias("IDeliveryGrain")]
public interface IDeliveryGrain : IGrainWithStringKey
{
    /// <summary>Creates the delivery in Draft; refused with 409 when the id is taken.</summary>
    [Alias("Create")]
    Task<DeliveryView> CreateAsync(DeliveryDefinition definition, Caller caller);

    /// <summary>Creates run <paramref name="index"/> of the recurring delivery <paramref name="templateId"/>, in Draft.</summary>
    [Alias("CreateRun")]
    Task<DeliveryView> CreateRunAsync(DeliveryDefinition definition, Caller caller, string templateId, int index);

    /// <summary>Changes name, target or schedule of a delivery not yet confirmed; Ready goes back to Draft (R2.4).</summary>
    [Alias("Change")]
    Task<DeliveryView> ChangeAsync(DeliveryChanges changes, Caller caller);

    /// <summary>
    /// Resolves the target and writes sending and exclusion logs (R2.1); the delivery becomes Ready.
    /// Ten million generated recipients take longer than the default 30 s call limit on two cores.
    /// </summary>
    [Alias("Prepare"), ResponseTimeout("00:05:00")]
    Task<PreparationResult> PrepareAsync(Caller caller);

    /// <summary>Confirms the send (R1.1, R2.3, R2.5): only a StartDeliveries user, only once, only when Ready.</summary>
    [Alias("ConfirmSend")]
    Task<DeliveryView> ConfirmSendAsync(Caller caller);

    /// <summary>R2: halts relaying and retries at once (in-flight calls finish); the validity period keeps running (R2.6).</summary>
    [Alias("Pause")]
    Task<DeliveryView> PauseAsync(Caller caller);

    /// <summary>R2: continues a paused delivery where it stopped, sending nothing twice.</summary>
    [Alias("Resume")]
    Task<DeliveryView> ResumeAsync(Caller caller);

    /// <summary>R2: cancels the delivery for good: nothing more is relayed or retried; unrelayed logs stay ToDeliver.</summary>
    [Alias("Stop")]
    Task<DeliveryView> StopAsync(Caller caller);

    /// <summary>The delivery as it stands. Reads state only, never awaits: answers even while a long call (Compute stats) runs.</summary>
    [AlwaysInterleave, Alias("GetView")]
    Task<DeliveryView> GetViewAsync();

    /// <summary>How many partitions hold the delivery's logs (0 before preparation); fixed once prepared.</summary>
    [AlwaysInterleave, ReadOnly, Alias("GetPartitionCount")]
    Task<int> GetPartitionCountAsync();

    /// <summary>The delivery per destination domain (R12.3, R12.5), domains in name order; empty before preparation.</summary>
    [AlwaysInterleave, Alias("GetDomains")]
    Task<IReadOnlyList<DomainStats>> GetDomainsAsync();

    /// <summary>R8.3, R4: the bounces and errors by failure type and reason, summed over the partitions; the most frequent first.</summary>
    [AlwaysInterleave, Alias("GetBounces")]
    Task<IReadOnlyList<BounceCount>> GetBouncesAsync();

    /// <summary>R13.3: clicks and unique clickers per tracked link, summed over the partitions; in link order.</summary>
    [AlwaysInterleave, Alias("ListLinks")]
    Task<IReadOnlyList<Tracking.LinkCount>> ListLinksAsync();

    /// <summary>
    /// R13.1: the delivery's link table, the content's tracked links in their order: where a click URL
    /// naming a link by its index alone redirects. Empty when no link is named so. Fixed once the
    /// content is, so a silo asks once per delivery.
    /// </summary>
    [AlwaysInterleave, ReadOnly, Alias("GetLinkTable")]
    Task<IReadOnlyList<string>> GetLinkTableAsync();

    /// <summary>The KPIs over time: one point a second while relaying, coarser after, a few thousand at most.</summary>
    [AlwaysInterleave, Alias("GetTimeline")]
    Task<Timeline> GetTimelineAsync();

    /// <summary>The timeline's points taken after <paramref name="after"/>: what a live watcher has not seen yet.</summary>
    [AlwaysInterleave, Alias("GetTimelineSince")]
    Task<Timeline> GetTimelineSinceAsync(DateTimeOffset after);

    /// <summary>R8.7: recounts every KPI from the logs, publishes it and repairs drift.</summary>
    /// <remarks>Reads every log of the delivery: at a million recipients that takes longer than Orleans' default 30 s call limit.</remarks>
    [Alias("ComputeStats"), ResponseTimeout("00:15:00")]
    Task<Kpis> ComputeStatsAsync(Caller caller);

    [Alias("ListLogs")]
    Task<LogPage> ListLogsAsync(LogQuery query, Caller caller);

    /// <summary>
    /// A page of the logs <paramref name="search"/> keeps, found over every partition (never an empty page
    /// while matches remain), with how many match in all: what the console's log list pages through.
    /// </summary>
    [AlwaysInterleave, Alias("SearchLogs")]
    Task<LogSearchPage> SearchLogsAsync(LogSearch search, Caller caller);

    /// <summary>Checks that <paramref name="caller"/> may read the logs and answers what an export walks: the partitions, one at a time.</summary>
    [AlwaysInterleave, Alias("OpenLogExport")]
    Task<LogExport> OpenLogExportAsync(Caller caller);

    [Alias("GetLog")]
    Task<SendingLog> GetLogAsync(string profileId, Caller caller);

    [Alias("ListExclusions")]
    Task<IReadOnlyList<ExclusionEntry>> ListExclusionsAsync(Caller caller);

    /// <summary>R2.1: <paramref name="limit"/> exclusions from the <paramref name="offset"/>-th, in the order preparation wrote them, and how many there are.</summary>
    [AlwaysInterleave, Alias("PageExclusions")]
    Task<ExclusionPage> PageExclusionsAsync(int offset, int limit, Caller caller);

    /// <summary>A partition's current absolute counts; the latest version of each partition wins.</summary>
    [AlwaysInterleave, Alias("ReportPartitionCounts")]
    Task ReportPartitionCountsAsync(int partition, PartitionCounts counts);

    /// <summary>R3.3, R3.4: the runs of a recurring delivery, or its aggregation periods.</summary>
    [Alias("ListExecutions")]
    Task<IReadOnlyList<Execution>> ListExecutionsAsync();

    /// <summary>The summed view of one aggregation period of a recurring delivery (R3.4).</summary>
    [Alias("GetExecutionView")]
    Task<DeliveryView> GetExecutionViewAsync(string executionId);

    /// <summary>A run of this recurring delivery reports its status and counts. Only folds numbers: safe to interleave.</summary>
    [AlwaysInterleave, Alias("ReportRun")]
    Task ReportRunAsync(RunReport report);

    /// <summary>
    /// R14.4: the content rendered for <paramref name="profileId"/>, a recipient of the target (the
    /// first one when null), sending nothing. Refused with 400 for a profile outside the target.
    /// </summary>
    [Alias("Preview")]
    Task<Content.ContentPreview> PreviewAsync(string? profileId, Caller caller);

    /// <summary>
    /// R14.4: sends the content, rendered for <paramref name="profileId"/> (the first recipient when
    /// null), to <paramref name="addresses"/> through the delivery's MTA with the subject prefixed
    /// <c>[Proof N]</c>; no KPI, log, quarantine or profile history sees it. The proof is listed on the delivery.
    /// </summary>
    [Alias("SendProofs"), ResponseTimeout("00:02:00")]
    Task<Content.ProofResult> SendProofsAsync(IReadOnlyList<string> addresses, string? profileId, Caller caller);

    /// <summary>Where a profile's log lives, for the profile history (R10.1); null when it has none here.</summary>
    [Alias("FindProfileLog")]
    Task<ProfileDeliveryEntry?> FindProfileLogAsync(string profileId);
}
