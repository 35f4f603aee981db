using Orleans.Concurrency;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Profiles;

[GenerateSerializer, Alias("DeliveryCatalogState")]
public sealed class DeliveryCatalogState
{
    [Id(0)] public List<string> DeliveryIds { get; set; } = [];
}

[GrainType("delivery-catalog")]
public sealed class DeliveryCatalogGrain(
    [PersistentState("catalog", StorageNames.Deliveries)] IPersistentState<DeliveryCatalogState> catalog) : Grain, IDeliveryCatalogGrain
{
    public async Task RegisterAsync(string deliveryId)
    {
        if (!catalog.State.DeliveryIds.Contains(deliveryId))
        {
            catalog.State.DeliveryIds.Add(deliveryId);
            await catalog.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(catalog.State.DeliveryIds.ToList());
}

/// <summary>R10.1, read on demand: asks each delivery of the catalog for the profile's log.</summary>
[StatelessWorker]
public sealed class ProfileHistoryGrain : Grain, IProfileHistoryGrain
{
    private const int DeliveriesInFlight = 32;

    public async Task<IReadOnlyList<ProfileDeliveryEntry>> GetHistoryAsync()
    {
        var profileId = this.GetPrimaryKeyString();
        var deliveryIds = await GrainFactory.GetGrain<IDeliveryCatalogGrain>(0).ListAsync();
        var entries = new ProfileDeliveryEntry?[deliveryIds.Count];
        await Bounded.ForEachAsync(Enumerable.Range(0, deliveryIds.Count), DeliveriesInFlight, async i =>
            entries[i] = await GrainFactory.GetGrain<Deliveries.IDeliveryGrain>(deliveryIds[i]).FindProfileLogAsync(profileId));
        return entries.OfType<ProfileDeliveryEntry>().ToList();
    }
}
