using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Profiles;

/// <summary>
/// The list of deliveries (a single grain, key 0): written once per delivery at creation, read
/// by the profile history (R10.1). Never on the per-recipient path.
/// </summary>
[Alias("IDeliveryCatalogGrain")]
public interface IDeliveryCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Register")]
    Task RegisterAsync(string deliveryId);

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
