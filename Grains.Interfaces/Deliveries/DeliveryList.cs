namespace DeliveryGrains.Deliveries;

/// <summary>What the catalog knows of a delivery to list it without waking it: kept current by the delivery itself.</summary>
[GenerateSerializer, Immutable, Alias("DeliverySummary")]
public sealed record DeliverySummary(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] Channel Channel,
    [property: Id(3)] DeliveryStatus Status,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] string? TemplateId);

/// <summary>
/// <c>GET /api/deliveries</c>: newest first, filtered by status, channel and a part of the name
/// (case-insensitive); <see cref="After"/> is the <c>next</c> cursor of the previous page.
/// </summary>
[GenerateSerializer, Immutable, Alias("DeliveryListQuery")]
public sealed record DeliveryListQuery(
    [property: Id(0)] DeliveryStatus? Status,
    [property: Id(1)] Channel? Channel,
    [property: Id(2)] string? Text,
    [property: Id(3)] long? After,
    [property: Id(4)] int Limit,
    [property: Id(5)] DeliverySort Sort = DeliverySort.Newest)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}

/// <summary>
/// The list's orders. <see cref="Newest"/> pages by the catalog's cursor (a place in creation order); the
/// others sort the matches and page by position, so <c>after</c> is how many matches came before.
/// <see cref="Started"/>: the latest to start sending first, then those not started yet (newest first).
/// </summary>
[Alias("DeliverySort")]
public enum DeliverySort
{
    Newest,
    Oldest,
    Name,
    Status,
    Started,
}

/// <summary>One page of the catalog: the ids in order, the cursor of the next page (null at the end), and how many match.</summary>
[GenerateSerializer, Immutable, Alias("DeliveryIdPage")]
public sealed record DeliveryIdPage(
    [property: Id(0)] IReadOnlyList<string> Ids,
    [property: Id(1)] long? Next,
    [property: Id(2)] int Total = 0,
    [property: Id(3)] IReadOnlyList<DateTimeOffset>? CreatedAt = null);

/// <summary>A page of deliveries, how many match in all, and when each one listed was created (by id).</summary>
[GenerateSerializer, Immutable, Alias("DeliveryListPage")]
public sealed record DeliveryListPage(
    [property: Id(0)] IReadOnlyList<DeliveryView> Items,
    [property: Id(1)] string? Next,
    [property: Id(2)] int Total = 0,
    [property: Id(3)] IReadOnlyDictionary<string, DateTimeOffset>? CreatedAt = null);

/// <summary>The deliveries page: a page of the catalog with each delivery's view, read in parallel.</summary>
[Alias("IDeliveryListGrain")]
public interface IDeliveryListGrain : IGrainWithIntegerKey
{
    [Alias("List")]
    Task<DeliveryListPage> ListAsync(DeliveryListQuery query);
}

/// <summary>One point of a delivery's KPI timeline (the charts of the Deployment block).</summary>
[GenerateSerializer, Immutable, Alias("TimelinePoint")]
public sealed record TimelinePoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] long Sent,
    [property: Id(2)] long Delivered,
    [property: Id(3)] long BouncesAndErrors,
    [property: Id(4)] long Opens,
    [property: Id(5)] long Clicks,
    [property: Id(6)] long Pending,
    [property: Id(7)] long AwaitingRetry)
{
    public static TimelinePoint Of(Kpis k, DateTimeOffset at) =>
        new(at, k.Sent, k.Delivered, k.BouncesAndErrors, k.Opens, k.Clicks, k.Pending, k.AwaitingRetry);

    /// <summary>The same figures, whatever the instant.</summary>
    public bool SameCounts(TimelinePoint other) => this with { At = other.At } == other;
}

[GenerateSerializer, Immutable, Alias("Timeline")]
public sealed record Timeline([property: Id(0)] IReadOnlyList<TimelinePoint> Points);
