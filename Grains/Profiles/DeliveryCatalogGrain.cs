using Orleans.Concurrency;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Profiles;

[GenerateSerializer, Alias("DeliveryCatalogState")]
public sealed class DeliveryCatalogState
{
    /// <summary>Every delivery in the order they were created: a delivery's place here is its list cursor.</summary>
    [Id(0)] public List<string> DeliveryIds { get; set; } = [];

    /// <summary>Name, channel and status of each, kept current by the deliveries (<see cref="IDeliveryCatalogGrain.RecordAsync"/>).</summary>
    [Id(1)] public Dictionary<string, DeliverySummary> Summaries { get; set; } = [];

    /// <summary>
    /// When each delivery started sending, for <see cref="DeliverySort.Started"/>: stamped when a summary comes with a
    /// sending status after a Draft, Ready or Scheduled one (the delivery records it as it writes its start), or read
    /// once from the delivery's view for a sending one whose start this catalog did not see.
    /// </summary>
    [Id(2)] public Dictionary<string, DateTimeOffset> StartedAt { get; set; } = [];
}

[GrainType("delivery-catalog")]
public sealed class DeliveryCatalogGrain(
    [PersistentState("catalog", StorageNames.Deliveries)] IPersistentState<DeliveryCatalogState> catalog, TimeProvider time) : Grain, IDeliveryCatalogGrain
{
    private const int DeliveriesInFlight = 32;
    private HashSet<string>? _known;

    private HashSet<string> Known => _known ??= [.. catalog.State.DeliveryIds];

    /// <summary>A catalog written before summaries were kept learns them once from the deliveries themselves.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var summaries = catalog.State.Summaries;
        var missing = catalog.State.DeliveryIds
            .Where(id => !summaries.TryGetValue(id, out var s) || (Sending(s.Status) && !catalog.State.StartedAt.ContainsKey(id)))
            .ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var views = new DeliveryView?[missing.Count];
        await Bounded.ForEachAsync(Enumerable.Range(0, missing.Count), DeliveriesInFlight, async i =>
        {
            try
            {
                views[i] = await GrainFactory.GetGrain<IDeliveryGrain>(missing[i]).GetViewAsync();
            }
            catch (NotFoundException)
            {
                // Registered but never stored: nothing to list.
            }
        });
        foreach (var view in views.OfType<DeliveryView>())
        {
            if (!summaries.ContainsKey(view.Id))
            {
                summaries[view.Id] = new DeliverySummary(view.Id, view.Name, view.Channel, view.Status, view.Kpis.ComputedAt, view.TemplateId);
            }

            if (view.StartedAt is { } started)
            {
                catalog.State.StartedAt[view.Id] = started;
            }
        }

        await catalog.WriteStateAsync();
    }

    public async Task RegisterAsync(string deliveryId)
    {
        if (Known.Add(deliveryId))
        {
            catalog.State.DeliveryIds.Add(deliveryId);
            await catalog.WriteStateAsync();
        }
    }

    public async Task RecordAsync(DeliverySummary summary)
    {
        var before = catalog.State.Summaries.GetValueOrDefault(summary.Id);
        if (Known.Add(summary.Id))
        {
            catalog.State.DeliveryIds.Add(summary.Id);
        }
        else if (before == summary)
        {
            return;
        }

        if (Sending(summary.Status) && before?.Status is DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled)
        {
            catalog.State.StartedAt[summary.Id] = time.GetUtcNow();
        }

        catalog.State.Summaries[summary.Id] = summary;
        await catalog.WriteStateAsync();
    }

    public Task<DeliveryIdPage> FindAsync(DeliveryListQuery query)
    {
        var ids = catalog.State.DeliveryIds;
        var summaries = catalog.State.Summaries;
        var text = string.IsNullOrWhiteSpace(query.Text) ? null : query.Text.Trim();
        bool Keeps(DeliverySummary s) =>
            (query.Status is not { } status || s.Status == status)
            && (query.Channel is not { } channel || s.Channel == channel)
            && (text is null || s.Name.Contains(text, StringComparison.OrdinalIgnoreCase));

        if (query.Sort != DeliverySort.Newest)
        {
            var matches = ids.Select(id => summaries.GetValueOrDefault(id)).OfType<DeliverySummary>().Where(Keeps);
            var sorted = (query.Sort switch
            {
                DeliverySort.Oldest => matches,
                DeliverySort.Name => matches.OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.CreatedAt),
                DeliverySort.Started => matches
                    .OrderByDescending(s => catalog.State.StartedAt.TryGetValue(s.Id, out var at) ? at : DateTimeOffset.MinValue)
                    .ThenByDescending(s => s.CreatedAt),
                _ => matches.OrderBy(s => s.Status).ThenByDescending(s => s.CreatedAt),
            }).ToList();
            var from = (int)Math.Clamp(query.After ?? 0, 0, sorted.Count);
            var window = sorted.GetRange(from, Math.Min(query.Limit, sorted.Count - from));
            return Task.FromResult(new DeliveryIdPage(
                [.. window.Select(s => s.Id)], from + window.Count < sorted.Count ? from + window.Count : null, sorted.Count, [.. window.Select(s => s.CreatedAt)]));
        }

        var page = new List<string>(query.Limit);
        var created = new List<DateTimeOffset>(query.Limit);
        long? next = null;
        var total = 0;
        var start = (int)Math.Min(query.After ?? ids.Count, ids.Count) - 1;
        for (var i = ids.Count - 1; i >= 0; i--)
        {
            if (!summaries.TryGetValue(ids[i], out var s) || !Keeps(s))
            {
                continue;
            }

            total++;
            if (i > start)
            {
                continue;
            }

            if (page.Count == query.Limit)
            {
                // One more matches: the next page starts after the last one given.
                next ??= i + 1;
                continue;
            }

            page.Add(ids[i]);
            created.Add(s.CreatedAt);
        }

        return Task.FromResult(new DeliveryIdPage(page, next, total, created));
    }

    /// <summary>
    /// Whether a delivery in <paramref name="status"/> has surely started sending (R2); a stopped or failed one may
    /// not have, so only a start seen on its way there counts for it.
    /// </summary>
    private static bool Sending(DeliveryStatus status) =>
        status is DeliveryStatus.InProgress or DeliveryStatus.Paused or DeliveryStatus.Sent or DeliveryStatus.Finished;

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(catalog.State.DeliveryIds.ToList());
}

/// <summary>The deliveries page: the catalog's page of ids, then each delivery's view, read in parallel.</summary>
[StatelessWorker]
public sealed class DeliveryListGrain : Grain, IDeliveryListGrain
{
    private const int DeliveriesInFlight = 32;

    public async Task<DeliveryListPage> ListAsync(DeliveryListQuery query)
    {
        var page = await GrainFactory.GetGrain<IDeliveryCatalogGrain>(0).FindAsync(query);
        var views = new DeliveryView?[page.Ids.Count];
        await Bounded.ForEachAsync(Enumerable.Range(0, page.Ids.Count), DeliveriesInFlight, async i =>
        {
            try
            {
                views[i] = await GrainFactory.GetGrain<IDeliveryGrain>(page.Ids[i]).GetViewAsync();
            }
            catch (NotFoundException)
            {
                // Catalogued but its state is gone: left out of the page.
            }
        });
        var createdAt = new Dictionary<string, DateTimeOffset>(page.Ids.Count);
        for (var i = 0; i < page.Ids.Count && page.CreatedAt is { } created; i++)
        {
            createdAt[page.Ids[i]] = created[i];
        }

        return new DeliveryListPage(views.OfType<DeliveryView>().ToList(), page.Next?.ToString(System.Globalization.CultureInfo.InvariantCulture), page.Total, createdAt);
    }
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
