namespace DeliveryGrains.Deliveries;

/// <summary>
/// One destination domain of a delivery (<c>GET /api/deliveries/{id}/domains</c>): its messages by
/// R8 count, the deferrals they met (R12.3) and the rate the relay allows the domain now (null when
/// no relay or scenario caps it).
/// </summary>
[GenerateSerializer, Immutable, Alias("DomainStats")]
public sealed record DomainStats(
    [property: Id(0)] string Domain,
    [property: Id(1)] long ToDeliver,
    [property: Id(2)] long Sent,
    [property: Id(3)] long Delivered,
    [property: Id(4)] long BouncesAndErrors,
    [property: Id(5)] long Deferrals,
    [property: Id(6)] int? RateCapPerMinute);

/// <summary>What one relay (an SMTP relay of one silo, or the simulator's scenario) saw of a delivery's domain.</summary>
[GenerateSerializer, Immutable, Alias("DomainRelayFigures")]
public sealed record DomainRelayFigures(
    [property: Id(0)] long Deferrals,
    [property: Id(1)] int? RateCapPerMinute,
    [property: Id(2)] DateTimeOffset At);

/// <summary>
/// The relays' side of one delivery's domain view (key: the delivery id): each relay reports its
/// absolute figures per domain now and then; the view sums the deferrals over relays and shows the
/// latest rate cap.
/// </summary>
[Alias("IDeliveryDomainsGrain")]
public interface IDeliveryDomainsGrain : IGrainWithStringKey
{
    /// <summary>Replaces what relay <paramref name="relay"/> said before about these domains.</summary>
    [Alias("Report")]
    Task ReportAsync(string relay, IReadOnlyDictionary<string, DomainRelayFigures> domains);

    /// <summary>Per domain: the deferrals summed over relays and the latest rate cap.</summary>
    [Alias("Get"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyDictionary<string, DomainRelayFigures>> GetAsync();
}

/// <summary>
/// The delivery's bounces and errors (R8.3) by failure type and reason (R4): the logs counted in
/// <c>bouncesAndErrors</c> now, grouped. Counted by the partitions and summed, never read log by log
/// by the caller.
/// </summary>
[GenerateSerializer, Immutable, Alias("BounceCount")]
public sealed record BounceCount(
    [property: Id(0)] Logs.FailureType? Type,
    [property: Id(1)] Logs.FailureReason? Reason,
    [property: Id(2)] long Count);
