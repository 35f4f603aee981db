using DeliveryGrains.Logs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace DeliveryGrains.Deliveries;

/// <summary>What the slice answers about its logs: pages, single logs, domains, and the recount (R8.7).</summary>
public sealed partial class DeliveryPartitionGrain
{
    public async Task<PartitionCounts> RecountAsync()
    {
        EnsurePrepared();
        await SaveAsync();

        // What is stored is what a restart would come back to, and after the write above it holds every
        // log as this activation does; logs may only have moved forward since (changes that came while it
        // was read). A stored log ahead of the activation's would mean a write it did not make: reported.
        var storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Deliveries);
        var stored = new GrainState<PartitionProgress>(new PartitionProgress());
        await storage.ReadStateAsync(ProgressStateName, this.GetGrainId(), stored);
        var storedMarks = stored.State?.Marks ?? [];
        var ahead = 0;
        for (var i = 0; i < S.Count; i++)
        {
            var memory = new LogMark(S.Marks[i]);
            var kept = i < storedMarks.Length ? new LogMark(storedMarks[i]) : default;
            ahead += LogMark.Latest(kept, memory) != memory ? 1 : 0;
        }

        if (ahead > 0)
        {
            LogStoredAhead(DeliveryId, Index, ahead);
        }

        _counts = MarkHistogram.Of(S.Marks);
        var counts = await AnswerCountsAsync();

        // The delivery takes a recount whatever it was told before; one more flush after it makes sure a
        // report numbered later but taken earlier cannot leave the delivery behind this slice.
        _countsDirty = true;
        return counts;
    }

    public Task<PartitionLogPage> ListLogsAsync(int after, LogFilter filter, int limit, int readBudget, bool emailFeedbackService)
    {
        var recipients = Slice.Members;
        var page = new List<SendingLog>(Math.Min(limit, 256));
        var i = Math.Max(after + 1, 0);
        var read = 0;
        for (; i < recipients.Count && page.Count < limit && read < readBudget; i++)
        {
            var phase = new LogMark(S.Marks[i]).Phase;
            if (filter.Status is not null && phase.ToStatus(emailFeedbackService) != filter.Status)
            {
                continue;
            }

            var recipient = recipients[i];
            if (!filter.MatchesRecipient(recipient.ProfileId, recipient.Address))
            {
                continue;
            }

            // Failure type and reason are read from the log itself, which counts against the budget.
            read += filter.NeedsLogs ? 1 : 0;
            var log = S.Slot(i).ToSendingLog(recipient, emailFeedbackService);
            if (filter.Matches(log))
            {
                page.Add(log);
            }
        }

        return Task.FromResult(new PartitionLogPage(page, i < recipients.Count ? i - 1 : null, read));
    }

    public Task<int> CountLogsAsync(LogFilter filter, bool emailFeedbackService)
    {
        var recipients = Slice.Members;
        if (filter is { Status: null, FailureType: null, FailureReason: null, Text: null })
        {
            return Task.FromResult(recipients.Count);
        }

        var count = 0;
        for (var i = 0; i < recipients.Count; i++)
        {
            count += Keeps(i, recipients, filter, emailFeedbackService) ? 1 : 0;
        }

        return Task.FromResult(count);
    }

    public Task<IReadOnlyList<SendingLog>> PageLogsAsync(int skip, LogFilter filter, int limit, bool emailFeedbackService)
    {
        var recipients = Slice.Members;
        var page = new List<SendingLog>(Math.Min(limit, 1024));
        var everyLog = filter is { Status: null, FailureType: null, FailureReason: null, Text: null };
        for (var i = everyLog ? Math.Max(0, skip) : 0; i < recipients.Count && page.Count < limit; i++)
        {
            if (!everyLog && !Keeps(i, recipients, filter, emailFeedbackService))
            {
                continue;
            }

            if (!everyLog && skip > 0)
            {
                skip--;
                continue;
            }

            page.Add(S.Slot(i).ToSendingLog(recipients[i], emailFeedbackService));
        }

        return Task.FromResult<IReadOnlyList<SendingLog>>(page);
    }

    /// <summary>
    /// Whether <paramref name="filter"/> keeps log <paramref name="i"/>, read from the columns (phase, packed
    /// failure) without unpacking the log, so a count over a million logs stays a scan of bytes; the
    /// recipient (made on the fly for a generated target) is read only for a text search.
    /// </summary>
    private bool Keeps(int i, IReadOnlyList<Recipient> recipients, LogFilter filter, bool emailFeedbackService)
    {
        if (filter.Status is { } status && new LogMark(S.Marks[i]).Phase.ToStatus(emailFeedbackService) != status)
        {
            return false;
        }

        if (filter.NeedsLogs)
        {
            var failure = S.Failures[i];
            if (failure == 0)
            {
                return false;
            }

            if ((filter.FailureType is { } type && (FailureType)((failure >> 4) - 1) != type)
                || (filter.FailureReason is { } reason && (FailureReason)(failure & 0x0F) != reason))
            {
                return false;
            }
        }

        if (filter.Text is null)
        {
            return true;
        }

        if (recipients is GeneratedMembers generated)
        {
            return generated.Mentions(i, filter.Text);
        }

        var recipient = recipients[i];
        return filter.MatchesRecipient(recipient.ProfileId, recipient.Address);
    }

    public Task<SendingLog?> FindLogAsync(string profileId, bool emailFeedbackService)
    {
        var index = Slice.Prepared ? IndexOf(profileId) : -1;
        return Task.FromResult(index < 0 ? null : S.Slot(index).ToSendingLog(Slice.Members[index], emailFeedbackService));
    }

    public Task<SendingLog?> ReadLogAsync(string profileId)
    {
        var index = Slice.Prepared ? IndexOf(profileId) : -1;
        return Task.FromResult(index < 0 || !S.IsHanded(index) || S.Run is null
            ? null
            : S.Slot(index).ToSendingLog(Slice.Members[index], S.Run.EmailFeedbackService));
    }

    /// <summary>
    /// The domain of each member, as an index into <see cref="_domainNames"/>: a slice's recipients never
    /// change once prepared, so the domain view (read every few seconds by an open delivery page) counts
    /// the marks only, instead of making and parsing every address again. Two bytes a recipient, in the
    /// activation only, made on the first read.
    /// </summary>
    private ushort[]? _domainOf;

    private string[] _domainNames = [];

    public Task<IReadOnlyList<DomainStats>> CountByDomainAsync(bool emailFeedbackService)
    {
        var recipients = Slice.Members;
        if (!IndexDomains(recipients))
        {
            return Task.FromResult(CountByDomain(recipients, emailFeedbackService));
        }

        var counts = new long[_domainNames.Length * 4];
        var domainOf = _domainOf!;
        for (var i = 0; i < domainOf.Length; i++)
        {
            var phase = i < S.Marks.Length ? new LogMark(S.Marks[i]).Phase : LogPhase.ToDeliver;
            Count(counts.AsSpan(domainOf[i] * 4, 4), phase, emailFeedbackService);
        }

        return Task.FromResult<IReadOnlyList<DomainStats>>(
            [.. _domainNames.Select((d, k) => new DomainStats(d, counts[k * 4], counts[k * 4 + 1], counts[k * 4 + 2], counts[k * 4 + 3], 0, null))
                .Where(d => d.ToDeliver > 0)]);
    }

    /// <summary>Indexes the members' domains once; false when there are too many distinct domains to index in two bytes.</summary>
    private bool IndexDomains(IReadOnlyList<Recipient> recipients)
    {
        if (_domainOf is { } known && known.Length == recipients.Count)
        {
            return true;
        }

        var names = new Dictionary<string, ushort>(StringComparer.Ordinal);
        var domainOf = new ushort[recipients.Count];
        for (var i = 0; i < recipients.Count; i++)
        {
            var domain = Mta.Smtp.MessageIdentity.DomainOf(recipients[i].Address ?? "");
            if (!names.TryGetValue(domain, out var k))
            {
                if (names.Count == ushort.MaxValue)
                {
                    return false;
                }

                names[domain] = k = (ushort)names.Count;
            }

            domainOf[i] = k;
        }

        _domainNames = [.. names.OrderBy(n => n.Value).Select(n => n.Key)];
        _domainOf = domainOf;
        return true;
    }

    private IReadOnlyList<DomainStats> CountByDomain(IReadOnlyList<Recipient> recipients, bool emailFeedbackService)
    {
        var byDomain = new Dictionary<string, long[]>(StringComparer.Ordinal);
        for (var i = 0; i < recipients.Count; i++)
        {
            var domain = Mta.Smtp.MessageIdentity.DomainOf(recipients[i].Address ?? "");
            if (!byDomain.TryGetValue(domain, out var counts))
            {
                byDomain[domain] = counts = new long[4];
            }

            Count(counts, i < S.Marks.Length ? new LogMark(S.Marks[i]).Phase : LogPhase.ToDeliver, emailFeedbackService);
        }

        return [.. byDomain.Select(d => new DomainStats(d.Key, d.Value[0], d.Value[1], d.Value[2], d.Value[3], 0, null))];
    }

    /// <summary>One log into its domain's counts: to deliver, sent, delivered, bounces and errors (R8).</summary>
    private static void Count(Span<long> counts, LogPhase phase, bool emailFeedbackService)
    {
        counts[0]++;
        if (phase != LogPhase.ToDeliver)
        {
            counts[1]++;
        }

        switch (phase.ToStatus(emailFeedbackService))
        {
            case LogStatus.Sent:
                counts[2]++;
                break;
            case LogStatus.Failed:
                counts[3]++;
                break;
        }
    }

    public Task<IReadOnlyList<BounceCount>> CountBouncesAsync(bool emailFeedbackService)
    {
        var byReason = new Dictionary<(FailureType?, FailureReason?), long>();
        var count = Math.Min(Slice.Members.Count, S.Marks.Length);
        for (var i = 0; i < count; i++)
        {
            if (new LogMark(S.Marks[i]).Phase.ToStatus(emailFeedbackService) != LogStatus.Failed)
            {
                continue;
            }

            var slot = S.Slot(i);
            var key = (slot.FailureType, slot.FailureReason);
            byReason[key] = byReason.GetValueOrDefault(key) + 1;
        }

        return Task.FromResult<IReadOnlyList<BounceCount>>([.. byReason.Select(b => new BounceCount(b.Key.Item1, b.Key.Item2, b.Value))]);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: {Count} stored logs are ahead of the partition's own; counted as the partition holds them")]
    private partial void LogStoredAhead(string deliveryId, int partition, int count);
}
