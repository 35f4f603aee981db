using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using DeliveryGrains.Profiles;

namespace DeliveryGrains.Deliveries;

/// <summary>What the delivery answers readers: its view, its domains, its sending logs and its exclusions.</summary>
public sealed partial class DeliveryGrain
{
    public Task<DeliveryView> GetViewAsync()
    {
        _ = Definition;
        return Task.FromResult(View());
    }

    public Task<int> GetPartitionCountAsync() => Task.FromResult(S.PartitionCount);

    public async Task<IReadOnlyList<DomainStats>> GetDomainsAsync()
    {
        var efs = Definition.EmailFeedbackService;
        var partitions = S.PartitionCount;
        var counted = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => Partition(p).CountByDomainAsync(efs)));
        var relays = await GrainFactory.GetGrain<IDeliveryDomainsGrain>(Id).GetAsync();
        return [.. counted.SelectMany(c => c)
            .GroupBy(d => d.Domain, StringComparer.Ordinal)
            .Select(g =>
            {
                var relay = relays.GetValueOrDefault(g.Key);
                return new DomainStats(g.Key, g.Sum(d => d.ToDeliver), g.Sum(d => d.Sent), g.Sum(d => d.Delivered), g.Sum(d => d.BouncesAndErrors),
                    relay?.Deferrals ?? 0, relay?.RateCapPerMinute);
            })
            .OrderBy(d => d.Domain, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<BounceCount>> GetBouncesAsync()
    {
        var efs = Definition.EmailFeedbackService;
        var counted = new IReadOnlyList<BounceCount>[S.PartitionCount];
        await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
            counted[p] = await Partition(p).CountBouncesAsync(efs));
        return [.. counted.SelectMany(c => c)
            .GroupBy(b => (b.Type, b.Reason))
            .Select(g => new BounceCount(g.Key.Type, g.Key.Reason, g.Sum(b => b.Count)))
            .OrderByDescending(b => b.Count).ThenBy(b => b.Type).ThenBy(b => b.Reason)];
    }

    public async Task<IReadOnlyList<Tracking.LinkCount>> ListLinksAsync()
    {
        _ = Definition;
        var counted = new List<Tracking.LinkCount>[S.PartitionCount];
        await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
            counted[p] = [.. await Partition(p).ListLinksAsync()]);

        // A link's index is its place in the message (R13.1); recipients of one link share its URL
        // unless the content personalizes it, in which case the first one seen names the link.
        return [.. counted.SelectMany(c => c)
            .GroupBy(l => l.Link)
            .OrderBy(g => g.Key)
            .Select(g => new Tracking.LinkCount(g.Key, g.First().Url, g.Sum(l => l.Clicks), g.Sum(l => l.UniqueClicks)))];
    }

    public Task<IReadOnlyList<string>> GetLinkTableAsync()
    {
        IReadOnlyList<string> links;
        try
        {
            links = S.Definition?.Mta.Content is { Tracked: true } content ? DeliveryGrains.Content.ContentTemplate.For(content).TrackedLinks : [];
        }
        catch (DeliveryGrains.Content.TemplateRenderException)
        {
            // Content that does not parse relayed nothing tracked: no link of it can be named.
            links = [];
        }

        return Task.FromResult(links);
    }

    public async Task<LogPage> ListLogsAsync(LogQuery query, Caller caller)
    {
        RequireLogReader(caller);
        var (partition, after) = ParseCursor(query.After);
        var items = new List<SendingLog>(query.Limit);
        var filter = query.Filter;
        var budget = Math.Max(query.Limit, LogQuery.ReadBudget);
        for (var p = partition; p < S.PartitionCount; p++, after = -1)
        {
            var page = await Partition(p).ListLogsAsync(after, filter, query.Limit - items.Count, budget, Definition.EmailFeedbackService);
            items.AddRange(page.Items);
            budget -= page.Read;
            if (page.NextAfter is { } next)
            {
                return new LogPage(items, $"{p}:{next}");
            }

            if (items.Count >= query.Limit || budget <= 0)
            {
                return new LogPage(items, p + 1 < S.PartitionCount ? $"{p + 1}:-1" : null);
            }
        }

        return new LogPage(items, null);
    }

    public async Task<LogSearchPage> SearchLogsAsync(LogSearch search, Caller caller)
    {
        RequireLogReader(caller);
        var efs = Definition.EmailFeedbackService;
        var counts = new int[S.PartitionCount];
        await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
            counts[p] = await Partition(p).CountLogsAsync(search.Filter, efs));
        var total = counts.Sum(c => (long)c);

        // A page past the end shows the last one, so a link kept while logs moved still lands somewhere.
        var offset = Math.Max(0, Math.Min(search.Offset, total == 0 ? 0 : (total - 1) / search.Limit * search.Limit));
        // The counts say which partitions hold the page and from where: they are read together, not one after another.
        var reads = new List<Task<IReadOnlyList<SendingLog>>>();
        var skip = offset;
        var wanted = (long)search.Limit;
        for (var p = 0; p < counts.Length && wanted > 0; p++)
        {
            if (skip >= counts[p])
            {
                skip -= counts[p];
                continue;
            }

            var take = (int)Math.Min(wanted, counts[p] - skip);
            reads.Add(Partition(p).PageLogsAsync((int)skip, search.Filter, take, efs));
            wanted -= take;
            skip = 0;
        }

        var items = new List<SendingLog>(search.Limit);
        foreach (var page in await Task.WhenAll(reads))
        {
            items.AddRange(page);
        }

        return new LogSearchPage(items, total, offset);
    }

    public Task<LogExport> OpenLogExportAsync(Caller caller)
    {
        RequireLogReader(caller);
        return Task.FromResult(new LogExport(S.PartitionCount, Definition.EmailFeedbackService));
    }

    public async Task<SendingLog> GetLogAsync(string profileId, Caller caller)
    {
        RequireLogReader(caller);
        var log = S.PartitionCount == 0
            ? null
            : await Partition(PartitionOf(profileId)).FindLogAsync(profileId, Definition.EmailFeedbackService);
        return log ?? throw new NotFoundException($"Delivery '{Id}' has no sending log for profile '{profileId}'.");
    }

    public Task<IReadOnlyList<ExclusionEntry>> ListExclusionsAsync(Caller caller)
    {
        RequireLogReader(caller);
        return Task.FromResult<IReadOnlyList<ExclusionEntry>>(S.Exclusions);
    }

    public Task<ExclusionPage> PageExclusionsAsync(int offset, int limit, Caller caller)
    {
        RequireLogReader(caller);
        var all = S.Exclusions;
        var from = Math.Clamp(offset, 0, all.Count);
        return Task.FromResult(new ExclusionPage(all.GetRange(from, Math.Clamp(limit, 0, all.Count - from)), all.Count));
    }

    public async Task<ProfileDeliveryEntry?> FindProfileLogAsync(string profileId)
    {
        if (S.Definition is null || S.PartitionCount == 0)
        {
            return null;
        }

        var log = await Partition(PartitionOf(profileId)).FindLogAsync(profileId, Definition.EmailFeedbackService);
        return log is null ? null : new ProfileDeliveryEntry(Id, Definition.Name, Definition.Channel, log.Status, log.RelayedAt);
    }

    private DeliveryView View()
    {
        var d = Definition;
        return new DeliveryView(Id, d.Name, d.Channel, S.Status, d.EmailFeedbackService, d.ValidityPeriod, S.ValidUntil,
            d.SendAt, S.Warnings, Kpis(), d.RetryPeriod, d.MaxRetries, d.RequestConfirmation, d.Mta, S.CreatedBy, d.TargetSize,
            d.Recurrence, S.TemplateId, S.Proofs.Count == 0 ? null : [.. S.Proofs], S.StartedAt);
    }

    private int PartitionOf(string profileId) => StableHash.Bucket(profileId, S.PartitionCount);

    private IDeliveryPartitionGrain Partition(int index) =>
        GrainFactory.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(Id, index));

    private (int Partition, int After) ParseCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return (0, -1);
        }

        var parts = cursor.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], out var p) && int.TryParse(parts[1], out var after) && p >= 0 && after >= -1)
        {
            return (p, after);
        }

        throw new ValidationException(new Dictionary<string, string[]>
        {
            ["after"] = [$"'{cursor}' is not a cursor of this list; pass the 'next' value of the previous page."],
        });
    }

    private void RequireLogReader(Caller caller)
    {
        _ = Definition;
        if (!caller.Holds(Roles.Administration) && caller.Name != S.CreatedBy)
        {
            throw new MissingRoleException(Roles.Administration, "Reading the logs of a delivery you did not create");
        }
    }
}
