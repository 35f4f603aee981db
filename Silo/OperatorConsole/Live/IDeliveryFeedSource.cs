using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole.Live;

/// <summary>Where a watcher reads a delivery: its grain in the cluster (tests give a fake).</summary>
public interface IDeliveryFeedSource
{
    Task<DeliveryView> GetViewAsync(string deliveryId);

    /// <summary>The timeline's points taken after <paramref name="after"/>, or all of them when null.</summary>
    Task<IReadOnlyList<TimelinePoint>> GetPointsAsync(string deliveryId, DateTimeOffset? after);

    /// <summary>The delivery's destination domains, as <c>GET /api/deliveries/{id}/domains</c> answers.</summary>
    Task<IReadOnlyList<DomainStats>> GetDomainsAsync(string deliveryId);

    /// <summary>The bounces and errors by type and reason, as <c>GET /api/deliveries/{id}/bounces</c> answers.</summary>
    Task<IReadOnlyList<BounceCount>> GetBouncesAsync(string deliveryId);

    /// <summary>The tracked links' clicks, as <c>GET /api/deliveries/{id}/links</c> answers.</summary>
    Task<IReadOnlyList<DeliveryGrains.Tracking.LinkCount>> GetLinksAsync(string deliveryId);
}

/// <summary>Reads the delivery grain (<see cref="IDeliveryGrain.GetViewAsync"/> never waits behind a long call).</summary>
public sealed class GrainFeedSource(IGrainFactory grains) : IDeliveryFeedSource
{
    public Task<DeliveryView> GetViewAsync(string deliveryId) => Delivery(deliveryId).GetViewAsync();

    public async Task<IReadOnlyList<TimelinePoint>> GetPointsAsync(string deliveryId, DateTimeOffset? after)
    {
        var timeline = after is { } since
            ? await Delivery(deliveryId).GetTimelineSinceAsync(since)
            : await Delivery(deliveryId).GetTimelineAsync();
        return timeline.Points;
    }

    public Task<IReadOnlyList<DomainStats>> GetDomainsAsync(string deliveryId) => Delivery(deliveryId).GetDomainsAsync();

    public Task<IReadOnlyList<BounceCount>> GetBouncesAsync(string deliveryId) => Delivery(deliveryId).GetBouncesAsync();

    public Task<IReadOnlyList<DeliveryGrains.Tracking.LinkCount>> GetLinksAsync(string deliveryId) => Delivery(deliveryId).ListLinksAsync();

    private IDeliveryGrain Delivery(string id) => grains.GetGrain<IDeliveryGrain>(id);
}
