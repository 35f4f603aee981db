using DeliveryGrains.Addresses;
using DeliveryGrains.Hosting;
using DeliveryGrains.Hosting.Storage;
using DeliveryGrains.Logs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Orleans.Storage;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The middle of the rollup: relays a slice of a delivery, mirrors each recipient's mark and, on
/// its flush period, sends its absolute counts up to the delivery and the address events of the
/// slice to the quarantine shards in one batch per shard.
/// </summary>
[GrainType("delivery-partition")]
public sealed partial class DeliveryPartitionGrain(
    [PersistentState("partition", StorageNames.Deliveries)] IPersistentState<PartitionState> slice,
    [PersistentState("progress", StorageNames.Deliveries)] IPersistentState<PartitionProgress> progress,
    IOptions<DeliveryEngineOptions> options,
    DeliveryMetrics metrics,
    TimeProvider time,
    IServiceProvider services,
    ILogger<DeliveryPartitionGrain> logger) : Grain, IDeliveryPartitionGrain
{
    private MarkHistogram _counts = new();
    private List<AddressEvent> _addressEvents = [];
    private Dictionary<string, int>? _indexByProfile;

    /// <summary>While a recount reads the logs: the latest mark each log reported meanwhile, by recipient index.</summary>
    private Dictionary<int, LogMark>? _reportedDuringRecount;
    private bool _countsDirty;

    /// <summary>When the oldest change not yet in the delivery's KPIs was folded: the start of the KPI lag.</summary>
    private DateTimeOffset? _oldestUnflushedChange;
    private bool _marksDirty;

    private readonly IGrainStateSurvey? _survey = services.GetKeyedService<IGrainStorage>(StorageNames.Logs) as IGrainStateSurvey;

    private PartitionState Slice => slice.State;

    private PartitionProgress S => progress.State;

    /// <summary>Progress is written from interleaved turns (flushes during a relay chunk): one write at a time.</summary>
    private StateWriter ProgressWriter => _progressWriter ??= new StateWriter(() => progress.WriteStateAsync());

    private StateWriter? _progressWriter;

    private (string DeliveryId, int Index) Key
    {
        get
        {
            var (deliveryId, tail) = GrainKeys.Split(this.GetPrimaryKeyString());
            return (deliveryId, int.Parse(tail, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _counts = MarkHistogram.Of(S.Marks);
        // The flush interleaves with long calls (a relay chunk, a feedback batch), or the KPIs would
        // wait for them (R8.5): it only swaps buffers between awaits and writes through one writer.
        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(options.Value.FlushPeriod, options.Value.FlushPeriod) { Interleave = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        FlushAsync(cancellationToken);

    public async Task<PartitionPreparation> PrepareAsync(PartitionPlan plan)
    {
        var excluded = await FindExcludedAsync(plan.Candidates);
        var kept = new List<Recipient>(plan.Candidates.Count);
        var exclusions = new List<ExclusionEntry>();
        foreach (var candidate in plan.Candidates)
        {
            if (excluded.TryGetValue(candidate.Address!, out var record))
            {
                var reason = record.Status == AddressStatus.OnDenylist ? ExclusionReason.Denylisted : ExclusionReason.QuarantinedAddress;
                exclusions.Add(new ExclusionEntry(candidate.ProfileId, candidate.Address, reason));
            }
            else
            {
                kept.Add(candidate);
            }
        }

        Slice.Recipients = kept;
        S.Marks = new byte[kept.Count];
        S.RelayCursor = 0;
        S.Version++;
        Slice.Prepared = true;
        S.RelayState = RelayState.Running;
        // Progress first: the slice's Prepared flag is what says preparation finished.
        await ProgressWriter.SaveAsync();
        await slice.WriteStateAsync();
        _counts = MarkHistogram.Of(S.Marks);
        _indexByProfile = null;
        _countsDirty = false;
        return new PartitionPreparation(_counts.ToCounts(S.Version), exclusions);
    }

    public async Task<int> RelayNextAsync(DeliveryRun run, int max)
    {
        EnsurePrepared();
        if (S.RelayState != RelayState.Running)
        {
            return Slice.Recipients.Count - S.RelayCursor;
        }

        var (deliveryId, index) = Key;
        var start = S.RelayCursor;
        var end = Math.Min(Slice.Recipients.Count, start + max);
        var failedAt = end;
        try
        {
            await Bounded.ForEachAsync(Enumerable.Range(start, end - start), options.Value.RelayConcurrency, async i =>
            {
                try
                {
                    var recipient = Slice.Recipients[i];
                    var order = new RelayOrder(run, index, i, recipient.ProfileId, recipient.Address!, recipient.Fields);
                    Apply(await GrainFactory.GetGrain<IRecipientLogGrain>(GrainKeys.Log(deliveryId, recipient.ProfileId)).RelayAsync(order));
                }
                catch
                {
                    failedAt = Math.Min(failedAt, i);
                    throw;
                }
            });
        }
        finally
        {
            // Relaying is idempotent per log, so after a failure the next call starts again at the first one that failed.
            S.RelayCursor = failedAt;

            // Cleared before the write, as in FlushAsync: a transition reported while the write is in
            // flight marks the mirror dirty again and reaches the store with the next flush.
            _marksDirty = false;
            await ProgressWriter.SaveAsync();
        }

        return Slice.Recipients.Count - S.RelayCursor;
    }

    public async Task<PartitionCounts> ChangeRelayStateAsync(RelayState relayState, DateTimeOffset at)
    {
        EnsurePrepared();
        if (S.RelayState != RelayState.Stopped)
        {
            S.RelayState = relayState;
            _marksDirty = false;
            await ProgressWriter.SaveAsync();
        }

        // Stopped is final. Telling it again fails the retries still waiting: a stop whose first telling
        // met logs lost with a silo is told again until every one of them took it.
        if (S.RelayState == RelayState.Stopped)
        {
            var (deliveryId, _) = Key;
            var retrying = Enumerable.Range(0, S.Marks.Length).Where(i => new LogMark(S.Marks[i]).Phase == LogPhase.AwaitingRetry).ToList();
            await Bounded.ForEachAsync(retrying, options.Value.RelayConcurrency, async i =>
                Apply(await Log(deliveryId, i).CancelRetryAsync(at)));
        }

        return await AnswerCountsAsync();
    }

    public Task<RelayState> GetRelayStateAsync() => Task.FromResult(S.RelayState);

    [NoProfiling]
    public Task ReportTransitionAsync(LogTransition transition)
    {
        if ((uint)transition.RecipientIndex >= (uint)S.Marks.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(transition), transition.RecipientIndex, "No such recipient in this partition.");
        }

        Apply(transition);
        return Task.CompletedTask;
    }

    [NoProfiling]
    public async Task<IReadOnlyList<int>> ApplyFeedbackAsync(IReadOnlyList<LogFeedback> feedback)
    {
        EnsurePrepared();
        var (deliveryId, index) = Key;
        List<int>? failed = null;
        await Bounded.ForEachAsync(feedback, options.Value.RelayConcurrency, async item =>
        {
            try
            {
                foreach (var transition in await Log(deliveryId, item.RecipientIndex).TakeFeedbackFromPartitionAsync(item.Events))
                {
                    Apply(transition);
                }
            }
            catch (Exception ex)
            {
                (failed ??= []).Add(item.RecipientIndex);
                LogFeedbackFailed(ex, deliveryId, index, item.RecipientIndex);
            }
        });
        return (IReadOnlyList<int>?)failed ?? [];
    }

    public async Task<PartitionCounts> ExpireAsync(DateTimeOffset at)
    {
        var (deliveryId, _) = Key;
        var waiting = Enumerable.Range(0, S.Marks.Length)
            .Where(i => new LogMark(S.Marks[i]).Phase is LogPhase.AwaitingOutcome or LogPhase.AwaitingRetry)
            .ToList();
        await Bounded.ForEachAsync(waiting, options.Value.RelayConcurrency, async i =>
            Apply(await Log(deliveryId, i).ExpireAsync(at)));
        return await AnswerCountsAsync();
    }

    public async Task<PartitionCounts> RecountAsync()
    {
        EnsurePrepared();
        var (deliveryId, _) = Key;
        var marks = new byte[Slice.Recipients.Count];
        Dictionary<int, LogMark> reported = [];
        _reportedDuringRecount = reported;
        try
        {
            var relayed = Enumerable.Range(0, marks.Length).Where(IsRelayed).ToList();
            var logs = await ReadLogsAsync(deliveryId, relayed);
            for (var n = 0; n < relayed.Count; n++)
            {
                marks[relayed[n]] = logs[n] is { } log ? LogMark.Of(log.Phase, log.Opened, log.Clicked).Value : default;
            }
        }
        finally
        {
            _reportedDuringRecount = null;
        }

        // A log may move after it was read and report while the others are still being read: that
        // report went to the old mirror, so fold it into the recount (marks only move forward).
        foreach (var (index, mark) in reported)
        {
            marks[index] = LogMark.Latest(new LogMark(marks[index]), mark).Value;
        }

        S.Marks = marks;
        _counts = MarkHistogram.Of(marks);
        _marksDirty = true;
        return await AnswerCountsAsync();
    }

    /// <summary>Logs read at once while a filter on failures looks through a slice.</summary>
    private const int LogReadChunk = 256;

    public async Task<PartitionLogPage> ListLogsAsync(int after, LogFilter filter, int limit, int readBudget, bool emailFeedbackService)
    {
        var (deliveryId, _) = Key;
        var recipients = Slice.Recipients;
        var page = new List<SendingLog>(limit);
        var i = Math.Max(after + 1, 0);
        var read = 0;
        while (i < recipients.Count && page.Count < limit && read < readBudget)
        {
            // Candidates by the mirror and the target (no log read), then what each log itself says:
            // the mirror may trail a log by one flush, and only the log knows its failure.
            var want = filter.NeedsLogs ? Math.Min(LogReadChunk, readBudget - read) : limit - page.Count;
            var candidates = new List<int>(want);
            for (; i < recipients.Count && candidates.Count < want; i++)
            {
                var phase = new LogMark(S.Marks[i]).Phase;
                if ((filter.Status is null || phase.ToStatus(emailFeedbackService) == filter.Status)
                    && (!filter.NeedsLogs || IsRelayed(i))
                    && filter.MatchesRecipient(recipients[i].ProfileId, recipients[i].Address))
                {
                    candidates.Add(i);
                }
            }

            var logs = await ReadLogsOrUnsentAsync(deliveryId, candidates, emailFeedbackService);
            read += candidates.Count;
            for (var n = 0; n < logs.Length; n++)
            {
                if (filter.Matches(logs[n]))
                {
                    page.Add(logs[n]);
                    if (page.Count == limit)
                    {
                        i = candidates[n] + 1;
                        break;
                    }
                }
            }
        }

        return new PartitionLogPage(page, i < recipients.Count ? i - 1 : null, read);
    }

    public async Task<SendingLog?> FindLogAsync(string profileId, bool emailFeedbackService)
    {
        _indexByProfile ??= Slice.Recipients.Select((r, i) => (r.ProfileId, i)).ToDictionary(x => x.ProfileId, x => x.i);
        return _indexByProfile.TryGetValue(profileId, out var index)
            ? (await ReadLogsOrUnsentAsync(Key.DeliveryId, [index], emailFeedbackService))[0]
            : null;
    }

    public Task<IReadOnlyList<DomainStats>> CountByDomainAsync(bool emailFeedbackService)
    {
        var byDomain = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var recipients = Slice.Recipients;
        for (var i = 0; i < recipients.Count; i++)
        {
            var domain = Mta.Smtp.MessageIdentity.DomainOf(recipients[i].Address ?? "");
            if (!byDomain.TryGetValue(domain, out var counts))
            {
                byDomain[domain] = counts = new long[4];
            }

            var phase = i < S.Marks.Length ? new LogMark(S.Marks[i]).Phase : LogPhase.ToDeliver;
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

        return Task.FromResult<IReadOnlyList<DomainStats>>(
            [.. byDomain.Select(d => new DomainStats(d.Key, d.Value[0], d.Value[1], d.Value[2], d.Value[3], 0, null))]);
    }

    private bool StoredIsBehind(SendingLog? stored, int index)
    {
        var storedMark = stored is null ? default : LogMark.Of(stored.Phase, stored.Opened, stored.Clicked);
        var behind = LogMark.Latest(storedMark, new LogMark(S.Marks[index])) != storedMark;
        if (behind)
        {
            LogStoredBehind(Key.DeliveryId, index);
        }

        return behind;
    }

    private bool IsRelayed(int index) => index < S.RelayCursor || new LogMark(S.Marks[index]).Phase != LogPhase.ToDeliver;

    /// <summary>The logs at <paramref name="indices"/>; a recipient whose message was not relayed yet reads as ToDeliver.</summary>
    private async Task<SendingLog[]> ReadLogsOrUnsentAsync(string deliveryId, List<int> indices, bool emailFeedbackService)
    {
        var relayed = indices.Where(IsRelayed).ToList();
        var logs = await ReadLogsAsync(deliveryId, relayed);
        var byIndex = new Dictionary<int, SendingLog>(relayed.Count);
        for (var n = 0; n < relayed.Count; n++)
        {
            if (logs[n] is { } log)
            {
                byIndex[relayed[n]] = log;
            }
        }

        return [.. indices.Select(index => byIndex.TryGetValue(index, out var log) ? log : Unsent(Slice.Recipients[index], emailFeedbackService))];
    }

    private static SendingLog Unsent(Recipient recipient, bool emailFeedbackService) => new(
        recipient.ProfileId, recipient.Address!, LogPhase.ToDeliver.ToStatus(emailFeedbackService),
        null, null, 0, null, null, false, false, LogPhase.ToDeliver);

    /// <summary>
    /// What the logs at <paramref name="indices"/> stored, read in bulk where the storage can (no
    /// activation per log); otherwise each log is asked. Null for a log that holds nothing yet.
    /// </summary>
    private async Task<IReadOnlyList<SendingLog?>> ReadLogsAsync(string deliveryId, List<int> indices)
    {
        var logs = new SendingLog?[indices.Count];
        var ask = Enumerable.Range(0, indices.Count);
        if (_survey is { } survey)
        {
            var ids = indices.Select(i => RecipientLogGrain.IdOf(deliveryId, Slice.Recipients[i].ProfileId)).ToList();
            var states = await survey.ReadManyAsync<RecipientLogState>(RecipientLogGrain.StateName, ids);
            for (var n = 0; n < logs.Length; n++)
            {
                logs[n] = states[n]?.ToSendingLog(Slice.Recipients[indices[n]].ProfileId);
            }

            // A log stores before it reports, so what is stored is normally never behind the mirror; after
            // a silo's death it can be (a raced or failed store): those few answer for themselves.
            ask = ask.Where(n => StoredIsBehind(logs[n], indices[n])).ToList();
        }

        await Bounded.ForEachAsync(ask, options.Value.RelayConcurrency, async n =>
            logs[n] = await Log(deliveryId, indices[n]).GetLogAsync());
        return logs;
    }

    private void Apply(LogTransition transition)
    {
        var index = transition.RecipientIndex;
        if (_reportedDuringRecount is { } reported)
        {
            reported[index] = reported.TryGetValue(index, out var earlier) ? LogMark.Latest(earlier, transition.To) : transition.To;
        }

        var current = new LogMark(S.Marks[index]);
        var next = LogMark.Latest(current, transition.To);
        if (next != current)
        {
            S.Marks[index] = next.Value;
            _counts.Move(current, next);
            _countsDirty = _marksDirty = true;
            _oldestUnflushedChange ??= time.GetUtcNow();
        }

        if (transition.AddressEffect is { } effect)
        {
            _addressEvents.Add(new AddressEvent(Slice.Recipients[index].Address!, effect.Kind, effect.Reason, effect.At));
        }
    }

    /// <summary>
    /// The end of a call the delivery makes (expire, recount, stop): the counts go back as the answer,
    /// a newer version than any flush before, and are not also reported upward. A report from inside
    /// the delivery's own call would wait on the delivery, which may be deactivating (a silo died and
    /// its directory entry with it) and takes no message until that call returns: the report waited
    /// out the 30 s call timeout. The address events and the marks are flushed as usual.
    /// </summary>
    private async Task<PartitionCounts> AnswerCountsAsync()
    {
        S.Version++;
        _countsDirty = false;
        _oldestUnflushedChange = null;
        _marksDirty = true;
        await FlushAsync(CancellationToken.None);
        return _counts.ToCounts(S.Version);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        var (deliveryId, index) = Key;
        if (_countsDirty)
        {
            _countsDirty = false;
            S.Version++;
            var oldest = _oldestUnflushedChange;
            _oldestUnflushedChange = null;
            try
            {
                await GrainFactory.GetGrain<IDeliveryGrain>(deliveryId).ReportPartitionCountsAsync(index, _counts.ToCounts(S.Version));
                metrics.KpiFlushed();
                if (oldest is { } changedAt)
                {
                    metrics.KpiLag(time.GetUtcNow() - changedAt);
                }
            }
            catch (Exception ex)
            {
                _countsDirty = true;
                // Changes folded during the failed call came later than the ones it carried.
                _oldestUnflushedChange = oldest ?? _oldestUnflushedChange;
                LogFlushFailed(ex, deliveryId, index);
                throw;
            }
        }

        if (_addressEvents.Count > 0)
        {
            var events = _addressEvents;
            _addressEvents = [];
            try
            {
                // Applying an address event twice is harmless only for some kinds, so a shard that
                // failed gets its events back in order; shards that answered are not sent them again.
                var shards = events.GroupBy(e => AddressBook.ShardOf(e.Address)).ToList();
                var calls = shards.Select(shard => GrainFactory.GetGrain<IAddressBookGrain>(shard.Key).RecordAsync(shard.ToList())).ToList();
                try
                {
                    await Task.WhenAll(calls);
                }
                catch
                {
                    _addressEvents.InsertRange(0, shards.Where((_, n) => !calls[n].IsCompletedSuccessfully).SelectMany(g => g));
                    throw;
                }
            }
            catch (Exception ex)
            {
                LogFlushFailed(ex, deliveryId, index);
                throw;
            }
        }

        if (_marksDirty)
        {
            _marksDirty = false;
            await ProgressWriter.SaveAsync();
        }
    }

    private async Task<Dictionary<string, AddressRecord>> FindExcludedAsync(IReadOnlyList<Recipient> candidates)
    {
        var found = await Task.WhenAll(candidates
            .GroupBy(c => AddressBook.ShardOf(c.Address!))
            .Select(shard => GrainFactory.GetGrain<IAddressBookGrain>(shard.Key).FindExcludedAsync(shard.Select(c => c.Address!).ToList())));
        return found.SelectMany(records => records).ToDictionary(r => r.Address);
    }

    private IRecipientLogGrain Log(string deliveryId, int index) =>
        GrainFactory.GetGrain<IRecipientLogGrain>(GrainKeys.Log(deliveryId, Slice.Recipients[index].ProfileId));

    private void EnsurePrepared()
    {
        if (!Slice.Prepared)
        {
            throw new ConflictException($"Partition {this.GetPrimaryKeyString()} was never prepared.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: the log of recipient {RecipientIndex} could not take its feedback")]
    private partial void LogFeedbackFailed(Exception ex, string deliveryId, int partition, int recipientIndex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: the stored log of recipient {RecipientIndex} is behind its partition's mirror; asking the log itself")]
    private partial void LogStoredBehind(string deliveryId, int recipientIndex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: flush failed, kept for the next one")]
    private partial void LogFlushFailed(Exception ex, string deliveryId, int partition);
}
