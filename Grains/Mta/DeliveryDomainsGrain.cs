using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Mta;

/// <summary>The relays' figures for one delivery's domains, per relay, stored so the domain view outlives the relays' memory.</summary>
[GenerateSerializer, Alias("DeliveryDomainsState")]
public sealed class DeliveryDomainsState
{
    /// <summary>Relay id → domain → its latest absolute figures.</summary>
    [Id(0)] public Dictionary<string, Dictionary<string, DomainRelayFigures>> Relays { get; set; } = [];
}

/// <summary>
/// Keeps what each relay reported about one delivery's domains (R12.3 deferrals, current rate caps).
/// Reports are absolute, so a repeated or reordered report is harmless; the view sums deferrals over
/// relays and takes the latest rate cap reported for each domain.
/// </summary>
[GrainType("delivery-domains")]
public sealed class DeliveryDomainsGrain(
    [PersistentState("domains", StorageNames.Deliveries)] IPersistentState<DeliveryDomainsState> state) : Grain, IDeliveryDomainsGrain
{
    public async Task ReportAsync(string relay, IReadOnlyDictionary<string, DomainRelayFigures> domains)
    {
        if (!state.State.Relays.TryGetValue(relay, out var known))
        {
            state.State.Relays[relay] = known = [];
        }

        foreach (var (domain, figures) in domains)
        {
            known[domain] = figures;
        }

        await state.WriteStateAsync();
    }

    public Task<IReadOnlyDictionary<string, DomainRelayFigures>> GetAsync()
    {
        var merged = new Dictionary<string, DomainRelayFigures>(StringComparer.Ordinal);
        foreach (var (domain, figures) in state.State.Relays.Values.SelectMany(r => r))
        {
            merged[domain] = merged.TryGetValue(domain, out var sum)
                ? new DomainRelayFigures(sum.Deferrals + figures.Deferrals, figures.At > sum.At ? figures.RateCapPerMinute ?? sum.RateCapPerMinute : sum.RateCapPerMinute ?? figures.RateCapPerMinute, Max(sum.At, figures.At))
                : figures;
        }

        return Task.FromResult<IReadOnlyDictionary<string, DomainRelayFigures>>(merged);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
