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
/// through one <see cref="StateWriter"/>. By concern: creation and preparation here; the life after it
/// in <c>DeliveryGrain.Lifecycle.cs</c>; the KPI rollup in <c>.Rollup.cs</c>; readers in <c>.Views.cs</c>;
/// recurring templates in <c>.Recurrence.cs</c>; the charts' timeline in <c>.Timeline.cs</c>.
/// </summary>
[GrainType("delivery")]
public sealed partial class DeliveryGrain(
    [PersistentState("delivery", StorageNames.Deliveries)] IPersistentState<DeliveryState> state,
    [PersistentState("timeline", StorageNames.Deliveries)] IPersistentState<DeliveryTimelineState> timeline,
    IOptions<DeliveryEngineOptions> options,
    TimeProvider time,
    LastSiloDeparture departure,
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

            // R14.1: new content is checked like the rest; it reaches the partitions when the send starts.
            // A change that does not say whether to track (the console's content form) keeps what the delivery said (R13.1).
            Mta = changes.Content is { } content
                ? definition.Mta with { Content = content.Tracking is null ? content with { Tracking = definition.Mta.Content?.Tracking } : content }
                : definition.Mta,
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
        var counts = new PartitionCounts[target.PartitionCount];
        var exclusions = new List<ExclusionEntry>(target.Exclusions);
        var found = new IReadOnlyList<ExclusionEntry>[target.PartitionCount];
        await Bounded.ForEachAsync(Enumerable.Range(0, target.PartitionCount), Options.PartitionsInFlight, async p =>
        {
            var prepared = await Partition(p).PrepareAsync(target.PlanFor(Id, p));
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

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Reminders only wake the grain after a deactivation or restart; activation resumes the work
        // with timers. A reminder whose work is done is dropped.
        return reminderName switch
        {
            ValidityReminder when !IsRunning => UnregisterAsync(ValidityReminder),
            HandedWatchReminder when !IsRunning => UnregisterAsync(HandedWatchReminder),
            StartReminder when S.Status != DeliveryStatus.Scheduled => UnregisterAsync(StartReminder),
            StartReminder => StartReminderTickAsync(),
            RecurrenceReminder when S.Status != DeliveryStatus.InProgress || S.Runs.Count >= Recurrence.Count => UnregisterAsync(RecurrenceReminder),
            RecurrenceReminder => RecurrenceReminderTickAsync(),
            _ => Task.CompletedTask,
        };
    }

    private async Task UnregisterAsync(string reminderName)
    {
        var reminder = await this.GetReminder(reminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: counts not saved at deactivation ({Reason}): {Error}")]
    private partial void LogCountsNotSaved(string deliveryId, DeactivationReasonCode reason, string error);
}
