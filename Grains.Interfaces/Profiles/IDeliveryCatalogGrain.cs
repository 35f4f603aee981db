using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Profiles;

/// <summary>
/// The list of deliveries (a single grain, key 0): written at a delivery's creation and when its
/// name or status changes, read by the profile history (R10.1) and the deliveries page. Never on
/// the per-recipient path.
/// </summary>
[Alias("IDeliveryCatalogGrain")]
public interface IDeliveryCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Register")]
    Task RegisterAsync(string deliveryId);

    /// <summary>Adds or updates a delivery's summary (a new one goes to the top of the list).</summary>
    [Alias("Record")]
    Task RecordAsync(DeliverySummary summary);

    /// <summary>A page of ids, newest first, matching the query.</summary>
    [Alias("Find")]
    Task<DeliveryIdPage> FindAsync(DeliveryListQuery query);

    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}

/// <summary>R10.1: every delivery sent to a profile, with its log status.</summary>
[Alias("IProfileHistoryGrain")]
public interface IProfileHistoryGrain : IGrainWithStringKey
{
    [Alias("GetHistory")]
    Task<IReadOnlyList<ProfileDeliveryEntry>> GetHistoryAsync();
}
