using DeliveryGrains.Logs;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// How many logs of a partition stand in each phase, and how many opened and clicked. Absolute
/// numbers, not deltas, so a lost or repeated flush heals with the next one. Opens and clicks are
/// counted by the phase of their log (<see cref="Opened"/> among Delivered logs, <see cref="OpenedWaiting"/>
/// among logs still waiting for an outcome or a retry; a failed log's opens count nowhere), so the
/// opens of R8.4 are always a part of the delivered they are a rate of, never more than 100%.
/// </summary>
[GenerateSerializer, Immutable, Alias("PartitionCounts")]
public sealed record PartitionCounts(
    [property: Id(0)] long Version,
    [property: Id(1)] long ToDeliver,
    [property: Id(2)] long AwaitingOutcome,
    [property: Id(3)] long AwaitingRetry,
    [property: Id(4)] long Delivered,
    [property: Id(5)] long Failed,
    [property: Id(6)] long Opened,
    [property: Id(7)] long Clicked,
    [property: Id(8)] long OpenedWaiting = 0,
    [property: Id(9)] long ClickedWaiting = 0,
    [property: Id(10)] long Unsubscribed = 0,
    [property: Id(11)] long Complained = 0)
{
    public static readonly PartitionCounts Empty = new(0, 0, 0, 0, 0, 0, 0, 0);

    public long Total => ToDeliver + AwaitingOutcome + AwaitingRetry + Delivered + Failed;

    public long Relayed => Total - ToDeliver;

    public static PartitionCounts Sum(IEnumerable<PartitionCounts> parts)
    {
        long toDeliver = 0, awaiting = 0, retry = 0, delivered = 0, failed = 0, opened = 0, clicked = 0, openedWaiting = 0, clickedWaiting = 0, unsubscribed = 0, complained = 0;
        foreach (var p in parts)
        {
            toDeliver += p.ToDeliver;
            awaiting += p.AwaitingOutcome;
            retry += p.AwaitingRetry;
            delivered += p.Delivered;
            failed += p.Failed;
            opened += p.Opened;
            clicked += p.Clicked;
            openedWaiting += p.OpenedWaiting;
            clickedWaiting += p.ClickedWaiting;
            unsubscribed += p.Unsubscribed;
            complained += p.Complained;
        }

        return new(0, toDeliver, awaiting, retry, delivered, failed, opened, clicked, openedWaiting, clickedWaiting, unsubscribed, complained);
    }

    /// <summary>R8.4: recipients who opened among those counted delivered (with EFS only Delivered logs, R6; without it every relayed log not failed, R5).</summary>
    public long Opens(bool emailFeedbackService) => Opened + (emailFeedbackService ? 0 : OpenedWaiting);

    /// <summary>R8.4: recipients who clicked among those counted delivered.</summary>
    public long Clicks(bool emailFeedbackService) => Clicked + (emailFeedbackService ? 0 : ClickedWaiting);

    /// <summary>R8: the Deployment block for these counts, with opens and clicks as last published (R8.5).</summary>
    public Kpis ToKpis(bool emailFeedbackService, long opens, long clicks, DateTimeOffset computedAt)
    {
        var sent = Relayed;
        var pending = emailFeedbackService ? AwaitingOutcome : 0;
        var delivered = emailFeedbackService
            ? Delivered
            : Delivered + AwaitingOutcome + AwaitingRetry;
        var failed = emailFeedbackService ? Failed + AwaitingRetry : Failed;
        return Kpis.Of(Total, sent, delivered, failed, opens, clicks, pending, AwaitingRetry, computedAt) with
        {
            Unsubscriptions = Unsubscribed,
            Complaints = Complained,
        };
    }
}

/// <summary>One delivery in a profile's history (R10.1).</summary>
[GenerateSerializer, Immutable, Alias("ProfileDeliveryEntry")]
public sealed record ProfileDeliveryEntry(
    [property: Id(0)] string DeliveryId,
    [property: Id(1)] string DeliveryName,
    [property: Id(2)] Channel Channel,
    [property: Id(3)] LogStatus Status,
    [property: Id(4)] DateTimeOffset? RelayedAt);
