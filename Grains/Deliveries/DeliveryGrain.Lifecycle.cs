using DeliveryGrains.Hosting;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The delivery's life after preparation: confirmation, the contact date (R3.1), pause, resume and
/// stop (R2), the fan-out to the partitions and the end of the validity period (R7.3).
/// </summary>
public sealed partial class DeliveryGrain
{
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

        S.Status = AllRelayed ? DeliveryStatus.Sent : DeliveryStatus.InProgress;
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
        await RegisterHandedWatchReminderAsync();
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
        if (S.Status == DeliveryStatus.InProgress && _fanOut is null or { IsCompleted: true })
        {
            _fanOut = FanOutAsync();
        }

        WatchHanded();
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

        _fanOut = null;
        if (SettleIfAllRelayed())
        {
            await Writer.SaveAsync();
        }
    }

    /// <summary>
    /// R2, R8.1: every message was relayed, that is answered by the MTA. Where the answer comes later
    /// (the SMTP relay, a scenario's simulator), a message handed to a relay queue or waiting behind a
    /// domain's cap (R12.3) is not relayed yet: the partitions still count it to deliver.
    /// </summary>
    private bool AllRelayed => S.Relayed.All(r => r) && (!AnsweredLater || S.Partitions.All(p => p.ToDeliver == 0));

    /// <summary>
    /// <c>InProgress</c> becomes <c>Sent</c> once the fan-out handed every message and <see cref="AllRelayed"/>;
    /// called when the fan-out ends and when a partition's counts come in. The caller stores the change
    /// (a count report's is stored by the counts' save timer, within its period).
    /// </summary>
    private bool SettleIfAllRelayed()
    {
        if (!MayRelay || _fanOut is { IsCompleted: false } || !AllRelayed)
        {
            return false;
        }

        S.Status = DeliveryStatus.Sent;
        MarkRunReportDirty();
        _countsUnsaved = true;
        LogAllRelayed(Id);
        return true;
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
        _handedWatch?.Dispose();
        _handedWatch = null;
        if (AnsweredLater)
        {
            await UnregisterAsync(HandedWatchReminder);
        }

        var final = Kpis();
        LogFinished(Id, final.Delivered, final.BouncesAndErrors);
    }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: relaying partition {Partition} failed; trying again")]
    private partial void LogRelayFailed(Exception ex, string deliveryId, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: telling the partitions it stopped failed; trying again")]
    private partial void LogStopNotTold(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: ending the validity period failed; trying again")]
    private partial void LogExpiryFailed(Exception ex, string deliveryId);
}
