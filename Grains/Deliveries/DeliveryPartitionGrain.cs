using DeliveryGrains.Addresses;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The middle of the rollup and the owner of a slice's sending logs. It keeps every log of the
/// slice in compact columns (<see cref="PartitionProgress"/>), relays the slice, applies the MTA's
/// feedback to the logs in bulk and stores them as one value before it answers; on its flush period
/// it sends its absolute counts up to the delivery and the slice's address events to the quarantine
/// shards in one batch per shard.
/// <para>
/// Hand-off with <see cref="Logs.RecipientLogGrain"/>: the partition is the only writer of a log.
/// A log's grain never keeps a copy of the log; it asks the partition to read or change its slot
/// (external feedback, a read, a retry) and carries out the retry command the partition answers
/// once the change is stored. The partition asks a log's grain only to set or drop its retry
/// reminder, after storing, and never while serving that grain's own call; a reminder left behind
/// by a failure finds nothing due and drops itself.
/// </para>
/// </summary>
[GrainType("delivery-partition")]
public sealed partial class DeliveryPartitionGrain(
    [PersistentState("partition", StorageNames.Deliveries)] IPersistentState<PartitionState> slice,
    [PersistentState(DeliveryPartitionGrain.ProgressStateName, StorageNames.Deliveries)] IPersistentState<PartitionProgress> progress,
    IOptions<DeliveryEngineOptions> options,
    IMessageRelay relay,
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    LastSiloDeparture departure,
    DeliveryMetrics metrics,
    TimeProvider time,
    ILogger<DeliveryPartitionGrain> logger) : Grain, IDeliveryPartitionGrain
{
    /// <summary>The name of the stored logs, for readers that recount from storage.</summary>
    public const string ProgressStateName = "progress";

    private MarkHistogram _counts = new();
    private List<AddressEvent> _addressEvents = [];
    private Dictionary<string, int>? _indexByProfile;
    private bool _countsDirty;

    /// <summary>When the oldest change not yet in the delivery's KPIs was made: the start of the KPI lag.</summary>
    private DateTimeOffset? _oldestUnflushedChange;
    private bool _unsaved;

    private PartitionState Slice => slice.State;

    private PartitionProgress S => progress.State;

    /// <summary>The logs are changed from interleaved turns (feedback during a relay chunk): one write at a time, coalesced.</summary>
    private StateWriter Writer => _writer ??= new StateWriter(() => progress.WriteStateAsync());

    private StateWriter? _writer;

    private string? _deliveryId;
    private int _index;

    private string DeliveryId
    {
        get
        {
            if (_deliveryId is null)
            {
                var (deliveryId, tail) = GrainKeys.Split(this.GetPrimaryKeyString());
                _index = int.Parse(tail, System.Globalization.CultureInfo.InvariantCulture);
                _deliveryId = deliveryId;
            }

            return _deliveryId;
        }
    }

    private int Index => DeliveryId is not null ? _index : 0;

    /// <summary>
    /// Versions an activation may send up before the next one starts above them: a flush numbers its
    /// counts without storing the number, so an activation that dies leaves sent versions the store
    /// never saw. Each activation starts this far above the stored number and stores that start first,
    /// so its reports always outrank the ones of every activation before it (at two flushes a second,
    /// one activation would need some 15 years to use them up).
    /// </summary>
    private const long VersionsPerActivation = 1_000_000_000;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _counts = MarkHistogram.Of(S.Marks);
        if (Slice.Prepared)
        {
            S.Version += VersionsPerActivation;
            await SaveAsync();

            // Counts an earlier activation could not report (a stop, a crash) go up on the first tick,
            // while the delivery still runs; the version above outranks whatever it had.
            _countsDirty = S.Run is { } run && run.ValidUntil > time.GetUtcNow();
            if (S.PendingAddressEvents.Count > 0)
            {
                // Sent on the first tick; kept in the store until the address book took them (FlushAsync).
                _addressEvents = [.. S.PendingAddressEvents];
            }
        }

        // The flush interleaves with long calls (a relay chunk, a feedback batch), or the KPIs would
        // wait for them (R8.5): it only swaps buffers between awaits and writes through one writer.
        // Each tick also relays the retries that fell due (DeliveryPartitionGrain.Retries.cs).
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(options.Value.FlushPeriod, options.Value.FlushPeriod) { Interleave = true });
        EnsureReminders();
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (departure.IsLeaving)
        {
            // The cluster's last silo stops: retries stay due and counts stay unreported until the next activation.
            return;
        }

        try
        {
            await RelayDueRetriesAsync();
        }
        finally
        {
            await FlushAsync(cancellationToken);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (departure.IsLeaving)
        {
            // The last silo of the cluster stops: the delivery and the address book have nowhere to be
            // placed, so nothing is sent to them (LastSiloDeparture). The logs and the address events not handed over yet
            // are stored; the next activation reports the counts and sends the events.
            if (_addressEvents.Count > 0)
            {
                S.PendingAddressEvents = [.. S.PendingAddressEvents, .. _addressEvents];
                _addressEvents = [];
                _unsaved = true;
            }

            if (_unsaved && Slice.Prepared)
            {
                await SaveAsync();
            }

            LogLeftAtShutdown(DeliveryId, Index);
            return;
        }

        await FlushAsync(cancellationToken);
    }

    public async Task<PartitionPreparation> PrepareAsync(PartitionPlan plan)
    {
        // Preparing again may give the slice other members: their domains are indexed again when next read.
        _domainOf = null;

        // Made once: the address book and the loop below both read every candidate.
        IReadOnlyList<Recipient> candidates = plan.Generated is { } target ? [.. new GeneratedMembers(target)] : plan.Candidates;
        var excluded = await FindExcludedAsync(candidates);
        var kept = new List<int>(candidates.Count);
        var exclusions = new List<ExclusionEntry>();
        for (var k = 0; k < candidates.Count; k++)
        {
            var candidate = candidates[k];
            if (excluded.TryGetValue(candidate.Address!, out var record))
            {
                var reason = record.Status == AddressStatus.OnDenylist ? ExclusionReason.Denylisted : ExclusionReason.QuarantinedAddress;
                exclusions.Add(new ExclusionEntry(candidate.ProfileId, candidate.Address, reason));
            }
            else
            {
                kept.Add(k);
            }
        }

        if (plan.Generated is { } generated)
        {
            Slice.Generated = generated with { Members = [.. kept.Select(k => generated.Members[k])] };
            Slice.Recipients = [];
        }
        else
        {
            Slice.Generated = null;
            Slice.Recipients = [.. kept.Select(k => plan.Candidates[k])];
        }

        S.Reset(kept.Count);
        S.Version++;
        Slice.Prepared = true;
        S.RelayState = RelayState.Running;
        // The logs first: the slice's Prepared flag is what says preparation finished.
        await Writer.SaveAsync();
        await slice.WriteStateAsync();
        _counts = MarkHistogram.Of(S.Marks);
        _indexByProfile = null;
        _countsDirty = false;
        return new PartitionPreparation(CurrentCounts(), exclusions);
    }

    public async Task<int> RelayNextAsync(DeliveryRun run, int max)
    {
        EnsurePrepared();
        S.Run = run;
        if (S.RelayState != RelayState.Running)
        {
            return Slice.Members.Count - S.RelayCursor;
        }

        var start = S.RelayCursor;
        var end = Math.Min(Slice.Members.Count, start + max);
        var holder = NoteHolder(run);
        try
        {
            for (var i = start; i < end; i++)
            {
                if (S.IsHanded(i))
                {
                    // Handed before a failure stopped the chunk, or before a crash that the store below did not outlive.
                    S.RelayCursor = i + 1;
                    continue;
                }

                // Hand over first, store second: a crash in between re-relays the same attempt with the
                // same message id, which the MTA can drop; the reverse order could lose the message.
                await relay.RelayAsync(Message(i, attempt: 1));
                metrics.Relayed(retry: false);
                var slot = S.Slot(i);
                var before = slot.Mark;
                LogRules.Relay(ref slot, run, time.GetUtcNow());
                Put(i, slot, before);
                MarkHolder(i, holder);
                S.RelayCursor = i + 1;
            }
        }
        finally
        {
            await SaveAsync();
        }

        return Slice.Members.Count - S.RelayCursor;
    }

    public async Task<PartitionCounts> ChangeRelayStateAsync(RelayState relayState, DateTimeOffset at)
    {
        EnsurePrepared();
        var commands = new List<(int Index, RetryCommand Command)>();
        if (S.RelayState != RelayState.Stopped)
        {
            S.RelayState = relayState;
        }

        // Stopped is final. Telling it again fails the retries still waiting and drops their reminders
        // again: a stop whose first telling met a log grain lost with a silo is told until all took it.
        if (S.RelayState == RelayState.Stopped)
        {
            for (var i = 0; i < S.Count; i++)
            {
                if (new LogMark(S.Marks[i]).Phase != LogPhase.AwaitingRetry)
                {
                    continue;
                }

                var slot = S.Slot(i);
                var before = slot.Mark;
                var command = RetryCommand.None;
                LogRules.CancelRetry(ref slot, at, ref command);
                Put(i, slot, before);
                commands.Add((i, command));
            }
        }

        await SaveAsync();
        await CommandRetriesNowAsync(commands);
        return await AnswerCountsAsync();
    }

    public Task<RelayState> GetRelayStateAsync() => Task.FromResult(S.RelayState);

    /// <summary>Stores the logs; completes once a write that began after every change so far has completed.</summary>
    private async Task SaveAsync()
    {
        _unsaved = false;
        try
        {
            await Writer.SaveAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation of this partition wrote since this one read (a duplicate activation during
            // a failover): this one's memory is stale, so it stops acting on its own and goes.
            _superseded = true;
            DeactivateOnIdle();
            throw;
        }
        catch
        {
            // The changes are still only in memory: the next flush (or the deactivation) writes them again.
            _unsaved = true;
            throw;
        }
    }

    /// <summary>Set once a write found that another activation of this partition stored since: nothing more is relayed from here.</summary>
    private bool _superseded;

    /// <summary>Writes a moved slot back and folds its move into the counts.</summary>
    private void Put(int index, in LogSlot slot, LogMark before)
    {
        S.Put(index, slot);
        var after = slot.Mark;
        if (after != before)
        {
            _counts.Move(before, after);
            _countsDirty = true;
            _oldestUnflushedChange ??= time.GetUtcNow();
        }

        _unsaved = true;
    }

    private void AddAddressEffect(int index, AddressEffect? effect)
    {
        if (effect is { } e)
        {
            _addressEvents.Add(new AddressEvent(Slice.Members[index].Address!, e.Kind, e.Reason, e.At));
        }
    }

    /// <summary>
    /// The end of a call the delivery makes (expire, recount, stop): the counts go back as the answer,
    /// a newer version than any flush before, and are not also reported upward. A report from inside
    /// the delivery's own call would wait on the delivery, which may be deactivating (a silo died and
    /// its directory entry with it) and takes no message until that call returns: the report waited
    /// out the 30 s call timeout. The address events are flushed as usual.
    /// </summary>
    private async Task<PartitionCounts> AnswerCountsAsync()
    {
        S.Version++;
        _countsDirty = false;
        _oldestUnflushedChange = null;
        await FlushAsync(CancellationToken.None);
        return CurrentCounts();
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_unsaved)
        {
            // Changes no answer waited for yet (a relay chunk still running): the counts never run ahead of the store.
            await SaveAsync();
        }

        if (departure.IsLeaving)
        {
            // The cluster's last silo is stopping: the delivery and the address book are called no more
            // (LastSiloDeparture). The counts stay due (the next activation reports them) and
            // OnDeactivateAsync stores the events.
            return;
        }

        if (_countsDirty)
        {
            _countsDirty = false;
            S.Version++;
            var oldest = _oldestUnflushedChange;
            _oldestUnflushedChange = null;
            try
            {
                await GrainFactory.GetGrain<IDeliveryGrain>(DeliveryId).ReportPartitionCountsAsync(Index, CurrentCounts());
                metrics.KpiFlushed();
                if (oldest is { } changedAt)
                {
                    metrics.KpiLag(time.GetUtcNow() - changedAt);
                }
            }
            catch (Exception ex)
            {
                _countsDirty = true;
                // Changes made during the failed call came later than the ones it carried.
                _oldestUnflushedChange = oldest ?? _oldestUnflushedChange;
                LogFlushFailed(ex, DeliveryId, Index);
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
                    if (S.PendingAddressEvents.Count > 0)
                    {
                        // The events a stop left stored were among these: the next write drops them.
                        S.PendingAddressEvents = [];
                        _unsaved = true;
                    }
                }
                catch
                {
                    _addressEvents.InsertRange(0, shards.Where((_, n) => !calls[n].IsCompletedSuccessfully).SelectMany(g => g));
                    throw;
                }
            }
            catch (Exception ex)
            {
                LogFlushFailed(ex, DeliveryId, Index);
                throw;
            }
        }
    }

    private async Task<Dictionary<string, AddressRecord>> FindExcludedAsync(IReadOnlyList<Recipient> candidates)
    {
        var found = await Task.WhenAll(candidates
            .GroupBy(c => AddressBook.ShardOf(c.Address!))
            .Select(shard => GrainFactory.GetGrain<IAddressBookGrain>(shard.Key).FindExcludedAsync(shard.Select(c => c.Address!).ToList())));
        return found.SelectMany(records => records).ToDictionary(r => r.Address);
    }

    private OutboundMessage Message(int index, int attempt)
    {
        var run = S.Run!;
        var recipient = Slice.Members[index];
        return new OutboundMessage(DeliveryId, Index, index, recipient.ProfileId, recipient.Address!, run.Channel, attempt,
            run.EmailFeedbackService, run.Mta, recipient.Fields is { Count: > 0 } ? recipient.Fields : null, run.ValidUntil);
    }

    /// <summary>The recipient index of <paramref name="profileId"/> in this slice, or -1.</summary>
    private int IndexOf(string profileId)
    {
        if (Slice.GeneratedMembers is { } generated)
        {
            return generated.IndexOf(profileId);
        }

        _indexByProfile ??= Slice.Recipients.Select((r, i) => (r.ProfileId, i)).ToDictionary(x => x.ProfileId, x => x.i, StringComparer.Ordinal);
        return _indexByProfile.TryGetValue(profileId, out var index) ? index : -1;
    }

    private IRecipientLogGrain LogGrain(int index) =>
        GrainFactory.GetGrain<IRecipientLogGrain>(GrainKeys.Log(DeliveryId, Slice.Members[index].ProfileId));

    private void EnsurePrepared()
    {
        if (!Slice.Prepared)
        {
            throw new ConflictException($"Partition {this.GetPrimaryKeyString()} was never prepared.");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {DeliveryId} partition {Partition}: the last silo stops; its logs are stored and its next activation reports its counts")]
    private partial void LogLeftAtShutdown(string deliveryId, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: flush failed, kept for the next one")]
    private partial void LogFlushFailed(Exception ex, string deliveryId, int partition);
}
