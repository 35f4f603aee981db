using DeliveryGrains.Addresses;
using DeliveryGrains.Hosting;
using System.Globalization;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// Recurring deliveries (R3.2–R3.4). A delivery with a <see cref="Recurrence"/> is a template: it
/// never relays itself; confirming it starts a schedule, each run is a delivery of its own
/// ("{templateId}-r{n}") that reports its status and summed counts back here — the rollup of
/// partitions into a delivery, one level up — and the template's KPIs are the sums of its runs'.
/// </summary>
public sealed partial class DeliveryGrain
{
    private const string RecurrenceReminder = "recurrence";
    private IGrainTimer? _runTimer;
    private bool _runReportDirty;
    private long _runReportVersion;

    private bool IsTemplate => S.Definition?.Recurrence is not null;

    private Recurrence Recurrence => Definition.Recurrence!;

    public async Task<DeliveryView> CreateRunAsync(DeliveryDefinition definition, Caller caller, string templateId, int index)
    {
        S.TemplateId = templateId;
        S.RunIndex = index;
        return await CreateAsync(definition, caller);
    }

    public Task<IReadOnlyList<Execution>> ListExecutionsAsync()
    {
        _ = Definition;
        if (!IsTemplate)
        {
            throw new ConflictException($"Delivery '{Id}' is not a recurring delivery; it has no executions.");
        }

        return Task.FromResult<IReadOnlyList<Execution>>(Executions().ToList());
    }

    public Task<DeliveryView> GetExecutionViewAsync(string executionId)
    {
        _ = Definition;
        var execution = IsTemplate ? Executions().FirstOrDefault(e => e.Id == executionId) : null;
        return execution is null
            ? throw new NotFoundException($"Delivery '{Id}' has no execution '{executionId}'.")
            : Task.FromResult(View() with { Id = execution.Id, Name = $"{Definition.Name} ({execution.Period})", Status = execution.Status, Kpis = execution.Kpis });
    }

    public Task ReportRunAsync(RunReport report)
    {
        if (IsTemplate && report.Index < S.Runs.Count && (S.Runs[report.Index].Latest?.Version ?? -1) < report.Version)
        {
            S.Runs[report.Index].Latest = report;
            S.CountsAt = time.GetUtcNow();
            if (S.Status == DeliveryStatus.InProgress && S.Runs.Count == Recurrence.Count && S.Runs.All(r => r.Latest?.Status is { } s && IsFinal(s)))
            {
                // R3.3: the template is Finished after its last run finishes; the counts timer stores it.
                S.Status = DeliveryStatus.Finished;
            }

            _countsUnsaved = true;
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// R3.3: preparing a template checks its target as a plain preparation would today — empty,
    /// invalid and duplicate addresses, then the quarantine and the denylist, asked of the address
    /// book in one call per shard — so its counts equal a plain prepare's; each run still resolves
    /// its own target at its time.
    /// </summary>
    private async Task<PreparationResult> CheckTemplateAsync()
    {
        var target = TargetResolution.Resolve(Definition, Options.PartitionSize);
        var candidates = Enumerable.Range(0, target.PartitionCount).SelectMany(target.Candidates).Select(r => r.Address!).ToList();
        var found = await Task.WhenAll(candidates
            .GroupBy(AddressBook.ShardOf)
            .Select(shard => GrainFactory.GetGrain<IAddressBookGrain>(shard.Key).FindExcludedAsync(shard.ToList())));
        var excluded = target.Exclusions.GroupBy(e => e.Reason).ToDictionary(g => g.Key, g => g.Count());
        foreach (var record in found.SelectMany(records => records))
        {
            var reason = record.Status == AddressStatus.OnDenylist ? ExclusionReason.Denylisted : ExclusionReason.QuarantinedAddress;
            excluded[reason] = excluded.GetValueOrDefault(reason) + 1;
        }

        var quarantined = found.Sum(records => records.Count);
        return new PreparationResult(candidates.Count - quarantined, excluded);
    }

    /// <summary>Confirming a template starts its schedule: the first run at the contact date or now.</summary>
    private async Task StartScheduleAsync(Caller caller)
    {
        var now = time.GetUtcNow();
        S.Status = DeliveryStatus.InProgress;
        S.StartedAt = now;
        S.FirstRunAt = Definition.SendAt is { } sendAt && sendAt > now ? sendAt : now;
        S.ConfirmedBy = caller.Name;

        // The reminder first: if it cannot be registered the template stays Ready and nothing changed.
        await this.RegisterOrUpdateReminder(RecurrenceReminder, ReminderPeriods.DueWithinHorizon(S.FirstRunAt.Value - now), ReminderPeriods.Backstop(Recurrence.Every));
        try
        {
            await Writer.SaveAsync();
        }
        catch
        {
            S.Status = DeliveryStatus.Ready;
            S.StartedAt = null;
            S.FirstRunAt = null;
            S.ConfirmedBy = null;
            throw;
        }

        ScheduleNextRun();
    }

    /// <summary>The recurrence reminder woke the template: a next run beyond the horizon gets the next reminder step, a nearer one its timer.</summary>
    private async Task RecurrenceReminderTickAsync()
    {
        var untilNext = RunAt(S.Runs.Count) - time.GetUtcNow();
        if (!ReminderPeriods.WithinHorizon(untilNext - ReminderPeriods.Backstop(Recurrence.Every)))
        {
            await this.RegisterOrUpdateReminder(RecurrenceReminder, ReminderPeriods.DueWithinHorizon(untilNext), ReminderPeriods.Backstop(Recurrence.Every));
        }

        ScheduleNextRun();
    }

    private DateTimeOffset RunAt(int index) => S.FirstRunAt!.Value + Recurrence.Every * index;

    private void ScheduleNextRun()
    {
        _runTimer?.Dispose();
        if (S.Status != DeliveryStatus.InProgress || S.Runs.Count >= Recurrence.Count)
        {
            return;
        }

        var due = RunAt(S.Runs.Count) - time.GetUtcNow();
        if (!ReminderPeriods.WithinHorizon(due))
        {
            // A run further away than a timer can wait: the recurrence reminder (its period at most the
            // horizon) wakes the template in time to set this timer.
            _runTimer = null;
            return;
        }

        _runTimer = this.RegisterGrainTimer(
            _ => RunDueAsync(),
            new GrainTimerCreationOptions(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    /// <summary>Creates every run whose time has come (after a restart there may be several), then waits for the next.</summary>
    private async Task RunDueAsync()
    {
        while (S.Status == DeliveryStatus.InProgress && S.Runs.Count < Recurrence.Count && RunAt(S.Runs.Count) <= time.GetUtcNow())
        {
            await StartRunAsync(S.Runs.Count);
        }

        if (S.Runs.Count >= Recurrence.Count)
        {
            await UnregisterAsync(RecurrenceReminder);
        }

        ScheduleNextRun();
    }

    private async Task StartRunAsync(int index)
    {
        var runId = $"{Id}-r{index}";
        S.Runs.Add(new RunEntry { DeliveryId = runId, ScheduledAt = RunAt(index) });
        await Writer.SaveAsync();

        var run = GrainFactory.GetGrain<IDeliveryGrain>(runId);
        var definition = Definition with
        {
            Name = $"{Definition.Name} #{index + 1}",
            Recurrence = null,
            SendAt = null,
        };
        var preparer = new Caller(S.CreatedBy, new HashSet<string> { Roles.PrepareDeliveries });
        await run.CreateRunAsync(definition, preparer, Id, index);
        await run.PrepareAsync(preparer);

        // R3.3: with "request confirmation" on and no aggregation period, the run waits in Ready;
        // otherwise (R3.4 offers no confirmation) it sends on behalf of whoever confirmed the template.
        if (Recurrence.AggregationPeriod is not null || !Definition.RequestConfirmation)
        {
            await run.ConfirmSendAsync(new Caller(S.ConfirmedBy ?? S.CreatedBy, new HashSet<string> { Roles.StartDeliveries }));
        }

        LogRunStarted(Id, index + 1, Recurrence.Count);
    }

    /// <summary>A run pushes its status and summed counts to its template when they changed.</summary>
    private async Task ReportToTemplateAsync()
    {
        if (S.TemplateId is null || S.Definition is null)
        {
            return;
        }

        _runReportDirty = false;
        // Clock ticks keep versions growing across activations of the run; the counter breaks ties.
        _runReportVersion = Math.Max(_runReportVersion + 1, time.GetUtcNow().UtcTicks);
        var report = new RunReport(S.RunIndex, _runReportVersion, S.Status, PartitionCounts.Sum(S.Partitions), S.PublishedOpens, S.PublishedClicks);
        await GrainFactory.GetGrain<IDeliveryGrain>(S.TemplateId).ReportRunAsync(report);
    }

    private void MarkRunReportDirty() => _runReportDirty |= S.TemplateId is not null;

    private IEnumerable<Execution> Executions()
    {
        if (Recurrence.AggregationPeriod is not { } period)
        {
            return S.Runs.Select(r => new Execution(
                r.DeliveryId, RunStatus(r), r.ScheduledAt.ToString("O", CultureInfo.InvariantCulture), RunKpis([r]), [r.DeliveryId]));
        }

        return S.Runs.GroupBy(r => PeriodKey(r.ScheduledAt, period)).Select(g => new Execution(
            $"{Id}~{g.Key}",
            g.All(r => IsFinal(RunStatus(r))) ? DeliveryStatus.Finished : DeliveryStatus.InProgress,
            g.Key,
            RunKpis(g.ToList()),
            g.Select(r => r.DeliveryId).ToList()));
    }

    private static DeliveryStatus RunStatus(RunEntry run) => run.Latest?.Status ?? DeliveryStatus.Draft;

    private Kpis RunKpis(IReadOnlyList<RunEntry> runs) => PartitionCounts.Sum(runs.Select(r => r.Latest?.Counts ?? PartitionCounts.Empty))
        .ToKpis(Definition.EmailFeedbackService,
            Definition.Channel == Channel.Email ? runs.Sum(r => r.Latest?.PublishedOpens ?? 0) : 0,
            Definition.Channel == Channel.Email ? runs.Sum(r => r.Latest?.PublishedClicks ?? 0) : 0,
            S.CountsAt ?? S.CreatedAt);

    /// <summary>R3.4: the UTC day, ISO week or month a run belongs to.</summary>
    public static string PeriodKey(DateTimeOffset at, AggregationPeriod period)
    {
        var utc = at.UtcDateTime;
        return period switch
        {
            AggregationPeriod.Day => utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            AggregationPeriod.Week => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc)}-W{ISOWeek.GetWeekOfYear(utc):00}"),
            AggregationPeriod.Month => utc.ToString("yyyy-MM", CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, null),
        };
    }

    private static bool IsFinal(DeliveryStatus status) => status is DeliveryStatus.Finished or DeliveryStatus.Stopped or DeliveryStatus.Failed;
}
