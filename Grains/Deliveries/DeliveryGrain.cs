using DeliveryGrains.Addresses;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using DeliveryGrains.Profiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// One delivery. Requests are handled one at a time; the fan-out and the end of the validity
/// period run as background work on the grain's own scheduler, so partitions can report counts
/// (an interleaved, synchronous call) while the delivery waits on them. Every state write goes
/// through one <see cref="StateWriter"/>.
/// </summary>
[GrainType("delivery")]
public sealed partial class DeliveryGrain(
    [PersistentState("delivery", StorageNames.Deliveries)] IPersistentState<DeliveryState> state,
    [PersistentState("timeline", StorageNames.Deliveries)] IPersistentState<DeliveryTimelineState> timeline,
    IOptions<DeliveryEngineOptions> options,
    TimeProvider time,
    ILogger<DeliveryGrain> logger) : Grain, IDeliveryGrain, IRemindable
{
    private const string ValidityReminder = "validity";
    private const string StartReminder = "start";
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopAnswerWithin = TimeSpan.FromSeconds(5);

    private StateWriter? _writer;
    private Task? _fanOut;
    private Task? _expiry;
    private IGrainTimer? _validityTimer;
    private IGrainTimer? _startTimer;
    private IGrainTimer? _stopTimer;
    private bool _countsUnsaved;

    private DeliveryState S => state.State;

    private DeliveryDefinition Definition => S.Definition ?? throw new NotFoundException($"Delivery '{Id}' does not exist.");

    private string Id => this.GetPrimaryKeyString();

    private StateWriter Writer => _writer ??= new StateWriter(WriteStateAndCatalogAsync);

    private DeliveryEngineOptions Options => options.Value;

    /// <summary>Started and its validity period not yet processed; a stopped delivery's pending messages still expire.</summary>
    private bool IsRunning => S.StartedAt is not null && !S.Expired && !IsTemplate
        && S.Status is DeliveryStatus.InProgress or DeliveryStatus.Sent or DeliveryStatus.Paused or DeliveryStatus.Stopped;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Counts reach the store in batches, never once per partition report.
        this.RegisterGrainTimer(SaveCountsAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)));
        this.RegisterGrainTimer(PublishTrackingAsync, new GrainTimerCreationOptions(Options.TrackingRefreshPeriod, Options.TrackingRefreshPeriod));
        StartTimeline();
        if (IsRunning)
        {
            Resume();
        }
        else if (S.Status == DeliveryStatus.Scheduled)
        {
            ScheduleStart();
        }
        else if (IsTemplate && S.Status == DeliveryStatus.InProgress)
        {
            ScheduleNextRun();
        }

        if (S.StopUntold)
        {
            ArmStopTimer(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_timelineUnsaved)
        {
            await SaveTimelineAsync();
        }

        if (!_countsUnsaved)
        {
            return;
        }

        try
        {
            await Writer.SaveAsync();
        }
        catch (Exception ex)
        {
            // The partitions hold the truth: their next flush or a Compute stats restores the counts.
            LogCountsNotSaved(Id, reason.ReasonCode, ex.Message);
        }
    }

    public async Task<DeliveryView> CreateAsync(DeliveryDefinition definition, Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Creating a delivery");
        if (S.Definition is not null)
        {
            throw new ConflictException($"Delivery '{Id}' already exists.");
        }

        ThrowIfInvalid(definition);
        if (definition.Mta.Kind == MtaKind.Smtp && !ServiceProvider.GetRequiredService<IOptions<Mta.Smtp.SmtpOptions>>().Value.IsConfigured)
        {
            throw new ValidationException(new Dictionary<string, string[]> { ["mta.kind"] = [Mta.Smtp.SmtpOptions.NotConfigured] });
        }

        var warnings = new List<string>();
        if (definition.ValidityPeriod > DeliveryDefinition.MaxValidityPeriod)
        {
            warnings.Add($"validityPeriod {definition.ValidityPeriod:c} is longer than the {DeliveryDefinition.MaxValidityPeriod:c} maximum and was capped to it (R7.2).");
            definition = definition with { ValidityPeriod = DeliveryDefinition.MaxValidityPeriod };
        }

        S.Definition = definition;
        S.CreatedBy = caller.Name;
        S.CreatedAt = time.GetUtcNow();
        S.Status = DeliveryStatus.Draft;
        S.Warnings = warnings;
        await Writer.SaveAsync();
        await CatalogAsync(Summary()!);
        LogCreated(Id, definition.Channel, definition.TargetSize);
        return View();
    }

    public async Task<DeliveryView> ChangeAsync(DeliveryChanges changes, Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Changing a delivery");
        var definition = Definition;
        if (S.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready))
        {
            throw new ConflictException($"Delivery '{Id}' is {S.Status}; only a Draft or Ready delivery can be changed.");
        }

        var targetChanged = changes.Recipients is not null || changes.GeneratedTarget is not null;
        var changed = definition with
        {
            Name = changes.Name ?? definition.Name,
            Recipients = targetChanged ? changes.Recipients : definition.Recipients,
            GeneratedTarget = targetChanged ? changes.GeneratedTarget : definition.GeneratedTarget,
            SendAt = changes.ClearSendAt ? null : changes.SendAt ?? definition.SendAt,
        };
        ThrowIfInvalid(changed);

        S.Definition = changed;
        if (targetChanged || changed.SendAt != definition.SendAt)
        {
            // R2.4: a new target or schedule must be prepared again.
            S.Status = DeliveryStatus.Draft;
        }

        await Writer.SaveAsync();
        return View();
    }

    public async Task<PreparationResult> PrepareAsync(Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Preparing a delivery");
        var definition = Definition;
        if (S.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready))
        {
            throw new ConflictException($"Delivery '{Id}' is {S.Status}; only a Draft or Ready delivery can be prepared.");
        }

        if (IsTemplate)
        {
            var check = await CheckTemplateAsync();
            S.Status = DeliveryStatus.Ready;
            await Writer.SaveAsync();
            return check;
        }

        var target = TargetResolution.Resolve(definition, Options.PartitionSize);
        var counts = new PartitionCounts[target.Partitions.Length];
        var exclusions = new List<ExclusionEntry>(target.Exclusions);
        var found = new IReadOnlyList<ExclusionEntry>[target.Partitions.Length];
        await Bounded.ForEachAsync(Enumerable.Range(0, target.Partitions.Length), Options.PartitionsInFlight, async p =>
        {
            var prepared = await Partition(p).PrepareAsync(new PartitionPlan(Id, definition.Channel, target.Partitions[p]));
            counts[p] = prepared.Counts;
            found[p] = prepared.Exclusions;
        });
        exclusions.AddRange(found.SelectMany(f => f));

        S.PartitionCount = counts.Length;
        S.Partitions = counts;
        S.Relayed = new bool[counts.Length];
        S.Exclusions = exclusions;
        S.Excluded = exclusions.GroupBy(e => e.Reason).ToDictionary(g => g.Key, g => g.Count());
        S.CountsAt = time.GetUtcNow();
        S.Status = DeliveryStatus.Ready;
        MarkRunReportDirty();
        await Writer.SaveAsync();
        var toDeliver = counts.Sum(c => c.Total);
        LogPrepared(Id, toDeliver, exclusions.Count, counts.Length);
        return new PreparationResult(toDeliver, S.Excluded);
    }

    public async Task<DeliveryView> ConfirmSendAsync(Caller caller)
    {
        Require(caller, Roles.StartDeliveries, "Confirming the send");
        _ = Definition;
        if (S.Status != DeliveryStatus.Ready)
        {
            // R2.3, R2.5: only a Ready delivery starts, and only once.
            throw new ConflictException(S.Status == DeliveryStatus.Draft
                ? $"Delivery '{Id}' is Draft: prepare it before confirming the send."
                : $"Delivery '{Id}' is {S.Status}: the send was already confirmed.");
        }

        LogConfirmed(Id, caller.Name);
        if (IsTemplate)
        {
            await StartScheduleAsync(caller);
            return View();
        }

        if (Definition.SendAt is { } sendAt && sendAt > time.GetUtcNow())
        {
            // R3.1: the contact date is kept by a reminder too, so a restart does not lose it. The
            // reminder comes first: if it cannot be registered the delivery stays Ready and nothing
            // changed; a reminder left by a failed save finds the delivery not Scheduled and drops itself.
            await RegisterStartReminderAsync(sendAt);
            S.Status = DeliveryStatus.Scheduled;
            try
            {
                await Writer.SaveAsync();
            }
            catch
            {
                S.Status = DeliveryStatus.Ready;
                throw;
            }

            ScheduleStart();
            return View();
        }

        await StartSendingAsync();
        return View();
    }

    public async Task<DeliveryView> PauseAsync(Caller caller)
    {
        Require(caller, Roles.StartDeliveries, "Pausing a delivery");
        _ = Definition;
        if (IsTemplate)
        {
            throw new ConflictException($"Delivery '{Id}' is a recurring delivery: pause its runs (see its executions), or stop it.");
        }

        if (S.Status is not (DeliveryStatus.InProgress or DeliveryStatus.Sent) || _expiry is not null)
        {
            throw new ConflictException($"Delivery '{Id}' is {S.Status}; only a delivery in progress can be paused.");
        }

        S.Status = DeliveryStatus.Paused;
        MarkRunReportDirty();
        await Writer.SaveAsync();
        await ChangeRelayStateAsync(RelayState.Paused);
        LogPaused(Id, caller.Name);
        return View();
    }

    public async Task<DeliveryView> ResumeAsync(Caller caller)
    {
        Require(caller, Roles.StartDeliveries, "Resuming a delivery");
        _ = Definition;
        if (S.Status != DeliveryStatus.Paused || _expiry is not null)
        {
            throw new ConflictException(S.Status == DeliveryStatus.Stopped
                ? $"Delivery '{Id}' was stopped for good; it cannot be resumed."
                : $"Delivery '{Id}' is {S.Status}; only a paused delivery can be resumed.");
        }

        S.Status = S.Relayed.All(r => r) ? DeliveryStatus.Sent : DeliveryStatus.InProgress;
        MarkRunReportDirty();
        await Writer.SaveAsync();
        await ChangeRelayStateAsync(RelayState.Running);
        LogResumed(Id, caller.Name);
        Resume();
        return View();
    }

    public async Task<DeliveryView> StopAsync(Caller caller)
    {
        Require(caller, Roles.StartDeliveries, "Stopping a delivery");
        _ = Definition;
        if (S.Status is not (DeliveryStatus.Scheduled or DeliveryStatus.InProgress or DeliveryStatus.Sent or DeliveryStatus.Paused)
            || _expiry is not null)
        {
            throw new ConflictException($"Delivery '{Id}' is {S.Status}; only a scheduled, running or paused delivery can be stopped.");
        }

        var wasScheduled = S.Status == DeliveryStatus.Scheduled;
        S.Status = DeliveryStatus.Stopped;
        S.StopUntold = !IsTemplate && !wasScheduled;
        MarkRunReportDirty();
        await Writer.SaveAsync();
        if (IsTemplate)
        {
            // No further run starts; the runs still going are stopped too.
            _runTimer?.Dispose();
            await UnregisterAsync(RecurrenceReminder);
            foreach (var run in S.Runs.Where(r => r.Latest?.Status is not { } status || !IsFinal(status)))
            {
                try
                {
                    await GrainFactory.GetGrain<IDeliveryGrain>(run.DeliveryId).StopAsync(caller);
                }
                catch (ConflictException)
                {
                    // A run still in Draft or Ready never sends; nothing to stop.
                }
            }
        }
        else if (wasScheduled)
        {
            _startTimer?.Dispose();
            await UnregisterAsync(StartReminder);
        }
        else
        {
            // Told within a few seconds as a rule; a partition on a silo that just died holds the call
            // until the failover ends (up to Orleans' response timeout), and the stop, already stored,
            // is not held up by it: the telling goes on after the answer.
            await Task.WhenAny(TellStopOrRetryLaterAsync(), Task.Delay(StopAnswerWithin));
        }

        LogStopped(Id, caller.Name);
        return View();
    }

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

    public async Task<Kpis> ComputeStatsAsync(Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Compute stats");
        _ = Definition;
        foreach (var run in S.Runs)
        {
            // Each run recounts and reports to this template before answering.
            await GrainFactory.GetGrain<IDeliveryGrain>(run.DeliveryId).ComputeStatsAsync(caller);
        }

        if (S.PartitionCount > 0)
        {
            // A recount is what the partition stores now: it replaces whatever was reported before, however
            // that report was numbered (R8.7 repairs drift); later flushes are numbered after it.
            await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
                Take(p, await Partition(p).RecountAsync(), recount: true));
        }

        PublishTracking();
        await Writer.SaveAsync();
        await ReportToTemplateAsync();
        return Kpis();
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

    public Task ReportPartitionCountsAsync(int partition, PartitionCounts counts)
    {
        if ((uint)partition < (uint)S.PartitionCount)
        {
            Take(partition, counts);
        }

        return Task.CompletedTask;
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

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Reminders only wake the grain after a deactivation or restart; activation resumes the work
        // with timers. A reminder whose work is done is dropped.
        return reminderName switch
        {
            ValidityReminder when !IsRunning => UnregisterAsync(ValidityReminder),
            StartReminder when S.Status != DeliveryStatus.Scheduled => UnregisterAsync(StartReminder),
            StartReminder => StartReminderTickAsync(),
            RecurrenceReminder when S.Status != DeliveryStatus.InProgress || S.Runs.Count >= Recurrence.Count => UnregisterAsync(RecurrenceReminder),
            RecurrenceReminder => RecurrenceReminderTickAsync(),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>
    /// The start reminder for a contact date: it ticks at the date, or at the horizon when the date is
    /// further (a contact date years ahead), where <see cref="StartReminderTickAsync"/> sets the next step.
    /// </summary>
    private Task RegisterStartReminderAsync(DateTimeOffset sendAt) =>
        this.RegisterOrUpdateReminder(StartReminder, ReminderPeriods.DueWithinHorizon(sendAt - time.GetUtcNow()), ReminderPeriods.Minimum);

    /// <summary>A scheduled delivery's reminder woke it: a date still beyond the horizon gets the next reminder step, a nearer one its timer.</summary>
    private async Task StartReminderTickAsync()
    {
        var sendAt = Definition.SendAt!.Value;
        if (!ReminderPeriods.WithinHorizon(sendAt - time.GetUtcNow() - ReminderPeriods.Minimum))
        {
            await RegisterStartReminderAsync(sendAt);
        }

        ScheduleStart();
    }

    /// <summary>R3.1: a timer for the contact date while the grain is active and the date within the horizon; the start reminder covers a restart and a far date.</summary>
    private void ScheduleStart()
    {
        var untilStart = Definition.SendAt!.Value - time.GetUtcNow();
        _startTimer?.Dispose();
        _startTimer = null;
        if (!ReminderPeriods.WithinHorizon(untilStart))
        {
            return;
        }

        _startTimer = this.RegisterGrainTimer(
            _ => S.Status == DeliveryStatus.Scheduled ? StartSendingAsync() : Task.CompletedTask,
            new GrainTimerCreationOptions(untilStart > TimeSpan.Zero ? untilStart : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    /// <summary>Relaying starts; so does the validity period (R2.6).</summary>
    private async Task StartSendingAsync()
    {
        var now = time.GetUtcNow();
        S.Status = DeliveryStatus.InProgress;
        S.StartedAt = now;
        S.ValidUntil = now + Definition.ValidityPeriod;
        MarkRunReportDirty();
        await Writer.SaveAsync();
        LogStarted(Id, S.ValidUntil.Value);
        await this.RegisterOrUpdateReminder(ValidityReminder, Definition.ValidityPeriod, ReminderPeriods.Minimum);
        _startTimer?.Dispose();
        await UnregisterAsync(StartReminder);
        Resume();
    }

    /// <summary>
    /// Tells every partition the delivery stopped. The stop is stored before: a partition lost with a
    /// silo fails the call until the failover ends, so the caller gets its answer and a timer tells the
    /// partitions again (one already stopped answers at once) until all took it — not a loop in this
    /// turn, for the reason given at <see cref="ExpireOrRetryLaterAsync"/>.
    /// </summary>
    private async Task TellStopOrRetryLaterAsync()
    {
        try
        {
            await ChangeRelayStateAsync(RelayState.Stopped);
            S.StopUntold = false;
            await Writer.SaveAsync();
            _stopTimer?.Dispose();
            _stopTimer = null;
        }
        catch (Exception ex)
        {
            LogStopNotTold(ex, Id);
            ArmStopTimer(RetryAfterFailure);
        }
    }

    private void ArmStopTimer(TimeSpan due)
    {
        _stopTimer?.Dispose();
        _stopTimer = this.RegisterGrainTimer(
            _ => TellStopOrRetryLaterAsync(),
            new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task ChangeRelayStateAsync(RelayState relayState)
    {
        var at = time.GetUtcNow();
        await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
            Take(p, await Partition(p).ChangeRelayStateAsync(relayState, at)));
    }

    /// <summary>Picks up a running delivery: the validity timer, and the fan-out where it stopped.</summary>
    private void Resume()
    {
        var untilEnd = S.ValidUntil!.Value - time.GetUtcNow();
        ArmValidityTimer(untilEnd > TimeSpan.Zero ? untilEnd : TimeSpan.Zero);
        if (S.Status == DeliveryStatus.InProgress && _fanOut is null)
        {
            _fanOut = FanOutAsync();
        }
    }

    private void ArmValidityTimer(TimeSpan due)
    {
        _validityTimer?.Dispose();
        _validityTimer = this.RegisterGrainTimer(
            _ => EndValidityAsync(),
            new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private bool MayRelay => S.Status == DeliveryStatus.InProgress && _expiry is null;

    private async Task FanOutAsync()
    {
        var run = new DeliveryRun(Id, Definition.Channel, Definition.EmailFeedbackService, Definition.RetryPeriod,
            Definition.MaxRetries, S.ValidUntil!.Value, Definition.Mta);

        // A pause that was resumed while a pass was ending leaves partitions behind: pass again.
        while (MayRelay && !S.Relayed.All(r => r))
        {
            await RelayPassAsync(run);
        }

        if (MayRelay)
        {
            S.Status = DeliveryStatus.Sent;
            MarkRunReportDirty();
            await Writer.SaveAsync();
            LogAllRelayed(Id);
        }

        _fanOut = null;
    }

    private async Task RelayPassAsync(DeliveryRun run)
    {
        var pending = Enumerable.Range(0, S.PartitionCount).Where(p => !S.Relayed[p]).ToList();
        await Bounded.ForEachAsync(pending, Options.PartitionsInFlight, async p =>
        {
            while (MayRelay)
            {
                try
                {
                    if (await Partition(p).RelayNextAsync(run, Options.RelayChunk) == 0)
                    {
                        S.Relayed[p] = true;
                        return;
                    }
                }
                catch (Exception ex)
                {
                    LogRelayFailed(ex, Id, p);
                    await Task.Delay(RetryAfterFailure);
                }
            }
        });
    }

    private Task EndValidityAsync()
    {
        if (_expiry is null || (_expiry.IsCompleted && !S.Expired))
        {
            _expiry = ExpireOrRetryLaterAsync();
        }

        return _expiry;
    }

    /// <summary>
    /// A partition or log lost with a silo fails the expiry; the timer tries again, not a loop in this
    /// turn. When a silo dies Orleans deactivates the activations whose directory entry it held, and a
    /// deactivation waits for the running turn while holding every call queued behind it, the
    /// partitions' count reports too: a turn waiting on partitions that wait on it would never end.
    /// Expiring again is harmless: it only moves the logs still waiting.
    /// </summary>
    private async Task ExpireOrRetryLaterAsync()
    {
        try
        {
            await ExpireAsync();
        }
        catch (Exception ex)
        {
            LogExpiryFailed(ex, Id);
            ArmValidityTimer(RetryAfterFailure);
        }
    }

    /// <summary>R7.3: nothing more is relayed or retried, waiting messages settle, the KPIs are final.</summary>
    private async Task ExpireAsync()
    {
        var at = S.ValidUntil!.Value;
        if (_fanOut is { } fanOut)
        {
            await fanOut;
        }

        await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
            Take(p, await Partition(p).ExpireAsync(at)));

        // A stopped delivery stays Stopped; every other one is Finished with final KPIs (R7.3).
        if (S.Status != DeliveryStatus.Stopped)
        {
            S.Status = DeliveryStatus.Finished;
        }

        S.Expired = true;
        PublishTracking();
        MarkRunReportDirty();
        _countsUnsaved = false;
        await Writer.SaveAsync();
        _validityTimer?.Dispose();
        await UnregisterAsync(ValidityReminder);
        var final = Kpis();
        LogFinished(Id, final.Delivered, final.BouncesAndErrors);
    }

    private void Take(int partition, PartitionCounts counts, bool recount = false)
    {
        if (recount || counts.Version >= S.Partitions[partition].Version)
        {
            S.Partitions[partition] = counts;
            S.CountsAt = time.GetUtcNow();
            _countsUnsaved = true;
            MarkRunReportDirty();
        }
    }

    private async Task SaveCountsAsync(CancellationToken cancellationToken)
    {
        if (_countsUnsaved)
        {
            _countsUnsaved = false;
            await Writer.SaveAsync();
        }

        if (_runReportDirty)
        {
            await ReportToTemplateAsync();
        }
    }

    private Task PublishTrackingAsync(CancellationToken cancellationToken)
    {
        if (!IsRunning)
        {
            return Task.CompletedTask;
        }

        PublishTracking();
        return SaveCountsAsync(cancellationToken);
    }

    /// <summary>R8.5: open and click figures move only when published.</summary>
    private void PublishTracking()
    {
        var sum = PartitionCounts.Sum(S.Partitions);
        var efs = S.Definition?.EmailFeedbackService ?? false;
        S.PublishedOpens = sum.Opens(efs);
        S.PublishedClicks = sum.Clicks(efs);
        _countsUnsaved = true;
    }

    private async Task UnregisterAsync(string reminderName)
    {
        var reminder = await this.GetReminder(reminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private Kpis Kpis()
    {
        if (IsTemplate)
        {
            return RunKpis(S.Runs);
        }

        var tracked = Definition.Channel == Channel.Email;
        return PartitionCounts.Sum(S.Partitions).ToKpis(
            Definition.EmailFeedbackService,
            tracked ? S.PublishedOpens : 0,
            tracked ? S.PublishedClicks : 0,
            S.CountsAt ?? S.CreatedAt);
    }

    private DeliveryView View()
    {
        var d = Definition;
        return new DeliveryView(Id, d.Name, d.Channel, S.Status, d.EmailFeedbackService, d.ValidityPeriod, S.ValidUntil,
            d.SendAt, S.Warnings, Kpis(), d.RetryPeriod, d.MaxRetries, d.RequestConfirmation, d.Mta, S.CreatedBy, d.TargetSize,
            d.Recurrence, S.TemplateId);
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

    private static void Require(Caller caller, string role, string action)
    {
        if (!caller.Holds(role))
        {
            throw new MissingRoleException(role, action);
        }
    }

    private static void ThrowIfInvalid(DeliveryDefinition definition)
    {
        var errors = DeliveryRules.Validate(definition);
        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} created: {Channel}, target of {TargetSize}")]
    private partial void LogCreated(string deliveryId, Channel channel, int targetSize);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} prepared: {ToDeliver} to deliver, {Excluded} excluded, {Partitions} partitions")]
    private partial void LogPrepared(string deliveryId, long toDeliver, int excluded, int partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId}: send confirmed by {User}")]
    private partial void LogConfirmed(string deliveryId, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} started relaying; valid until {ValidUntil:o}")]
    private partial void LogStarted(string deliveryId, DateTimeOffset validUntil);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring delivery {DeliveryId}: run {Run} of {Count} started")]
    private partial void LogRunStarted(string deliveryId, int run, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} paused by {User}")]
    private partial void LogPaused(string deliveryId, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} resumed by {User}")]
    private partial void LogResumed(string deliveryId, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} stopped by {User}")]
    private partial void LogStopped(string deliveryId, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId}: every message relayed")]
    private partial void LogAllRelayed(string deliveryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} finished: {Delivered} delivered, {Failed} bounces and errors")]
    private partial void LogFinished(string deliveryId, long delivered, long failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: counts not saved at deactivation ({Reason}): {Error}")]
    private partial void LogCountsNotSaved(string deliveryId, DeactivationReasonCode reason, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: relaying partition {Partition} failed; trying again")]
    private partial void LogRelayFailed(Exception ex, string deliveryId, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: telling the partitions it stopped failed; trying again")]
    private partial void LogStopNotTold(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: ending the validity period failed; trying again")]
    private partial void LogExpiryFailed(Exception ex, string deliveryId);
}
