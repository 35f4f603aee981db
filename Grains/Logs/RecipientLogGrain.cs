using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Hosting;
using DeliveryGrains.Mta;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace DeliveryGrains.Logs;

/// <summary>
/// One message's sending log. Relayed once by its partition; moved by MTA feedback (R4–R6);
/// after a soft bounce it holds a reminder for its retry (R7.1), the only per-recipient reminder
/// in the engine, dropped as soon as the retry goes out. Every change is stored before it is
/// reported to the partition, so a lost report is repaired by a recount (R8.7), never the reverse.
/// Not profiled by the dashboard: one activation per recipient is too hot a path to time every call.
/// </summary>
[NoProfiling]
[GrainType(GrainTypeName)]
public sealed partial class RecipientLogGrain(
    [PersistentState(RecipientLogGrain.StateName, StorageNames.Logs)] IPersistentState<RecipientLogState> log,
    IMessageRelay relay,
    DeliveryMetrics metrics,
    TimeProvider time,
    ILogger<RecipientLogGrain> logger) : Grain, IRecipientLogGrain, IRemindable
{
    public const string GrainTypeName = "recipient-log";

    /// <summary>The name of the log's persistent state, for readers that survey stored logs without activating them.</summary>
    public const string StateName = "log";

    private const string RetryReminder = "retry";

    /// <summary>
    /// The retry reminder fires once at the due time and is dropped when the retry goes out; its period
    /// only matters when that tick is missed (its silo died), so it is the shortest Orleans allows,
    /// not the retry period (an hour by default) that would delay the retry by as much again.
    /// </summary>
    private static readonly TimeSpan RetryBackstop = ReminderPeriods.Minimum;

    public static GrainId IdOf(string deliveryId, string profileId) => GrainId.Create(GrainTypeName, GrainKeys.Log(deliveryId, profileId));

    private RecipientLogState S => log.State;

    private string DeliveryId => GrainKeys.Split(this.GetPrimaryKeyString()).DeliveryId;

    private string ProfileId => GrainKeys.Split(this.GetPrimaryKeyString()).Tail;

    public async Task<LogTransition> RelayAsync(RelayOrder order)
    {
        if (S.Run is not null)
        {
            return new LogTransition(S.RecipientIndex, S.Mark, S.Mark);
        }

        // Hand over first, store second: a crash in between re-relays the same attempt with the
        // same message id, which the MTA can drop; the reverse order could lose the message.
        var run = order.Run;
        var fields = order.Fields is { Count: > 0 } ? order.Fields : null;
        await relay.RelayAsync(new OutboundMessage(
            DeliveryId, order.Partition, order.RecipientIndex, ProfileId, order.Address, run.Channel, Attempt: 1, run.EmailFeedbackService, run.Mta,
            fields, run.ValidUntil));
        metrics.Relayed(retry: false);
        var now = time.GetUtcNow();

        // R12.1: over SMTP the message counts as relayed only once a transaction for it was answered
        // (RecordSmtpReplyAsync); until then it stays ToDeliver, handed to the relay's queue. So does a
        // simulated one under a scenario (R12.5), whose domains may defer it past their caps.
        var answeredLater = run.Mta.Kind == MtaKind.Smtp || run.Mta.Scenario is not null;
        S.Run = run;
        S.Partition = order.Partition;
        S.RecipientIndex = order.RecipientIndex;
        S.Address = order.Address;
        S.Fields = fields;
        S.Attempts = 1;
        S.Phase = answeredLater ? LogPhase.ToDeliver : LogPhase.AwaitingOutcome;
        S.RelayedAt = answeredLater ? null : now;
        S.LastEventAt = now;
        await StoreAsync();
        return new LogTransition(S.RecipientIndex, LogMark.Of(LogPhase.ToDeliver, false, false), S.Mark);
    }

    public async Task<FeedbackOutcome> ApplyFeedbackAsync(FeedbackEvent feedback) =>
        (await ApplyFeedbackBatchAsync([feedback]))[0];

    public async Task<IReadOnlyList<FeedbackOutcome>> ApplyFeedbackBatchAsync(IReadOnlyList<FeedbackEvent> feedback)
    {
        var (outcomes, before, effects) = await ApplyAndStoreAsync(feedback);
        await ReportAsync(Transitions(before, effects));
        return outcomes;
    }

    public async Task<IReadOnlyList<LogTransition>> TakeFeedbackFromPartitionAsync(IReadOnlyList<FeedbackEvent> feedback)
    {
        var (_, before, effects) = await ApplyAndStoreAsync(feedback);
        var transitions = Transitions(before, effects);
        if (transitions.Count == 0)
        {
            // A repeat of feedback whose answer was lost: the current mark heals the partition's mirror.
            transitions.Add(new LogTransition(S.RecipientIndex, S.Mark, S.Mark));
        }

        return transitions;
    }

    public async Task RecordSmtpReplyAsync(SmtpReply reply)
    {
        if (S.Run is null)
        {
            DeactivateOnIdle();
            throw new NotFoundException(
                $"Delivery '{DeliveryId}' has no relayed message for profile '{ProfileId}'.");
        }

        if (reply.Attempt != S.Attempts)
        {
            // The answer to an attempt this log has moved past (a late repeat): nothing to learn from it.
            return;
        }

        var before = S.Mark;
        var firstAnswer = S.Phase == LogPhase.ToDeliver;
        if (firstAnswer)
        {
            // R12.1: the first answered transaction is the relay (R8.1 sent).
            S.Phase = LogPhase.AwaitingOutcome;
            S.RelayedAt = reply.At;
            S.LastEventAt = Max(S.LastEventAt, reply.At);
        }

        var type = reply.Bounce
            ?? (!firstAnswer && S.Phase == LogPhase.AwaitingRetry && S.RetryRelayed ? FeedbackType.Delivered : (FeedbackType?)null);
        List<AddressEffect> effects = [];
        if (type is { } t)
        {
            // A 250 to a retry is that retry's success (R5.4, R6.5); a refusal is the attempt's bounce (R12.2).
            var e = new FeedbackEvent($"smtp:{reply.Attempt}:{t}", DeliveryId, ProfileId, t, reply.Reason, reply.At);
            (_, _, effects) = await ApplyAndStoreAsync([e], mustStore: firstAnswer);
        }
        else if (firstAnswer)
        {
            await StoreAsync();
        }

        await ReportAsync(Transitions(before, effects));
    }

    /// <summary>Applies new events in order, stores the result once and carries out the retry reminder it calls for.</summary>
    private async Task<(FeedbackOutcome[] Outcomes, LogMark Before, List<AddressEffect> Effects)> ApplyAndStoreAsync(
        IReadOnlyList<FeedbackEvent> feedback, bool mustStore = false)
    {
        if (S.Run is null)
        {
            DeactivateOnIdle();
            throw new NotFoundException(
                $"Delivery '{DeliveryId}' has no relayed message for profile '{ProfileId}'.");
        }

        var before = S.Mark;
        var outcomes = new FeedbackOutcome[feedback.Count];
        var effects = new List<AddressEffect>();
        var accepted = false;
        var now = time.GetUtcNow();
        for (var i = 0; i < feedback.Count; i++)
        {
            // No report happened after the silo's clock says now: one dated in the future would stand
            // as the address's latest error (R9.2) and as the log's latest event for as long.
            var e = feedback[i].At > now ? feedback[i] with { At = now } : feedback[i];
            if (S.SeenEvents.Contains(e.EventId))
            {
                outcomes[i] = FeedbackOutcome.Duplicate;
                metrics.FeedbackDuplicate();
                continue;
            }

            S.SeenEvents.Add(e.EventId);
            outcomes[i] = FeedbackOutcome.Accepted;
            accepted = true;
            metrics.FeedbackApplied(e.Type);
            if (Apply(e) is { } effect)
            {
                effects.Add(effect);
            }

            S.LastEventAt = Max(S.LastEventAt, e.At);
        }

        if (accepted || mustStore)
        {
            await StoreAsync();
            await SyncRetryReminderAsync();
        }

        if (S.Phase.IsFinal())
        {
            // A final log only changes again if late tracking events come (rarely, and a reactivation
            // serves them): giving the activation back now keeps a large delivery's memory flat.
            DeactivateOnIdle();
        }

        return (outcomes, before, effects);
    }

    public async Task<LogTransition> ExpireAsync(DateTimeOffset at)
    {
        var before = S.Mark;
        switch (S.Phase)
        {
            case LogPhase.AwaitingRetry:
                // R5.5 / R6.6: the latest outcome was a soft bounce and no retry may follow. Its reminder
                // goes once the failure is stored: the reminder service can fail while a silo's death is
                // still being noticed, and a change kept in the activation but never stored would be
                // answered from memory while the store still says AwaitingRetry. A reminder left
                // behind finds the log final and unregisters itself.
                S.Phase = LogPhase.Failed;
                _pendingCancel = true;
                break;
            case LogPhase.AwaitingOutcome when S.Run!.EmailFeedbackService:
                Fail(FailureType.Ignored, FailureReason.Expired);
                break;
            case LogPhase.AwaitingOutcome:
                // Without EFS a relayed message counts as Sent unless a bounce said otherwise (R5.1).
                S.Phase = LogPhase.Delivered;
                break;
            default:
                return new LogTransition(S.RecipientIndex, before, before);
        }

        S.LastEventAt = Max(S.LastEventAt, at);
        await StoreAsync();
        await SyncRetryReminderAsync();
        return new LogTransition(S.RecipientIndex, before, S.Mark);
    }

    public async Task<LogTransition> CancelRetryAsync(DateTimeOffset at)
    {
        var before = S.Mark;
        if (S.Phase != LogPhase.AwaitingRetry)
        {
            return new LogTransition(S.RecipientIndex, before, before);
        }

        S.Phase = LogPhase.Failed;
        S.LastEventAt = Max(S.LastEventAt, at);
        await StoreAsync();
        await UnregisterRetryAsync();
        return new LogTransition(S.RecipientIndex, before, S.Mark);
    }

    public Task<SendingLog?> GetLogAsync()
    {
        if (S.Run is null)
        {
            DeactivateOnIdle();
        }

        return Task.FromResult(S.ToSendingLog(ProfileId));
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != RetryReminder)
        {
            return;
        }

        if (S.Run is null || S.Phase != LogPhase.AwaitingRetry || S.RetryRelayed)
        {
            await UnregisterRetryAsync();
            return;
        }

        var before = S.Mark;
        var now = time.GetUtcNow();
        var relayState = await Partition.GetRelayStateAsync();
        if (relayState == RelayState.Paused)
        {
            // R2: nothing is relayed while the delivery is paused; the retry waits one more period.
            await this.RegisterOrUpdateReminder(RetryReminder, S.Run.RetryPeriod, RetryBackstop);
            return;
        }

        if (now >= S.Run.ValidUntil || relayState == RelayState.Stopped)
        {
            // R7.3 and R2 stop: nothing is retried once the validity period is over or the delivery stopped.
            S.Phase = LogPhase.Failed;
            S.LastEventAt = now;
        }
        else
        {
            // The attempt counts once the relay took it: a relay that fails leaves the activation as stored.
            await relay.RelayAsync(Message(S.Attempts + 1));
            S.Attempts++;
            metrics.Relayed(retry: true);
            S.RetryRelayed = true;
            LogRetryRelayed(DeliveryId, S.Attempts);
        }

        await StoreAsync();
        await UnregisterRetryAsync();
        await ReportAsync(Transitions(before, []));
    }

    /// <summary>Moves the state for one new event and answers what it means for the address.</summary>
    private AddressEffect? Apply(FeedbackEvent feedback)
    {
        switch (feedback.Type)
        {
            case FeedbackType.Open:
                S.Opened = true;
                return null;
            case FeedbackType.Click:
                S.Opened = true;
                S.Clicked = true;
                return null;
            case FeedbackType.Complaint:
                return new AddressEffect(AddressEventKind.Complaint, null, feedback.At);
        }

        if (S.Phase.IsFinal())
        {
            // R7.4: the message already has its final status.
            return null;
        }

        // R7.1: an outcome that comes while a retry is due is that retry's outcome, relayed or not.
        if (S.Phase == LogPhase.AwaitingRetry && !S.RetryRelayed)
        {
            S.Attempts++;
        }

        var reason = feedback.Reason ?? FailureReason.NotDefined;
        switch (feedback.Type)
        {
            case FeedbackType.Delivered:
                var wasRetrying = S.Phase == LogPhase.AwaitingRetry;
                S.Phase = LogPhase.Delivered;
                S.FailureType = null;
                S.FailureReason = null;
                CancelRetry(wasRetrying);
                return new AddressEffect(AddressEventKind.Success, null, feedback.At);

            case FeedbackType.HardBounce:
                CancelRetry(S.Phase == LogPhase.AwaitingRetry);
                Fail(FailureType.Hard, reason);
                return new AddressEffect(AddressEventKind.HardBounce, reason, feedback.At);

            case FeedbackType.SoftBounce:
                var type = reason.UsualType() == FailureType.Ignored ? FailureType.Ignored : FailureType.Soft;
                S.FailureType = type;
                S.FailureReason = reason;
                ScheduleRetryOrFail(feedback.At);
                return new AddressEffect(
                    type == FailureType.Ignored ? AddressEventKind.IgnoredFailure : AddressEventKind.SoftBounce, reason, feedback.At);

            default:
                throw new ArgumentOutOfRangeException(nameof(feedback), feedback.Type, "Unknown feedback type.");
        }
    }

    private void ScheduleRetryOrFail(DateTimeOffset at)
    {
        var run = S.Run!;
        var retriesLeft = run.MaxRetries - (S.Attempts - 1);
        var retryAt = Max(time.GetUtcNow(), at) + run.RetryPeriod;
        if (retriesLeft <= 0 || retryAt > run.ValidUntil)
        {
            // R7.1: a soft bounce on the last allowed retry, or one no retry can follow in time, fails at once.
            CancelRetry(S.Phase == LogPhase.AwaitingRetry);
            S.Phase = LogPhase.Failed;
            return;
        }

        S.Phase = LogPhase.AwaitingRetry;
        S.RetryRelayed = false;
        _pendingRetry = run.RetryPeriod;
        metrics.RetryScheduled();
    }

    private void Fail(FailureType type, FailureReason reason)
    {
        S.Phase = LogPhase.Failed;
        S.FailureType = type;
        S.FailureReason = reason;
    }

    // Reminder changes are decided while applying an event and carried out after the state is stored.
    private TimeSpan? _pendingRetry;
    private bool _pendingCancel;

    private void CancelRetry(bool wasAwaitingRetry)
    {
        _pendingCancel |= wasAwaitingRetry;
        _pendingRetry = null;
    }

    private async Task SyncRetryReminderAsync()
    {
        if (_pendingRetry is { } due)
        {
            _pendingRetry = null;
            _pendingCancel = false;
            await this.RegisterOrUpdateReminder(RetryReminder, due, RetryBackstop);
        }
        else if (_pendingCancel)
        {
            _pendingCancel = false;
            await UnregisterRetryAsync();
        }
    }

    /// <summary>What the partition must fold for a change from <paramref name="before"/>: one transition per change of mark, at most one address effect each.</summary>
    private List<LogTransition> Transitions(LogMark before, IReadOnlyList<AddressEffect> effects)
    {
        var after = S.Mark;
        var transitions = new List<LogTransition>(Math.Max(1, effects.Count));
        if (after == before && effects.Count == 0)
        {
            return transitions;
        }

        transitions.Add(new LogTransition(S.RecipientIndex, before, after, effects.Count > 0 ? effects[0] : null));
        for (var i = 1; i < effects.Count; i++)
        {
            transitions.Add(new LogTransition(S.RecipientIndex, after, after, effects[i]));
        }

        return transitions;
    }

    private async Task ReportAsync(List<LogTransition> transitions)
    {
        foreach (var transition in transitions)
        {
            await Partition.ReportTransitionAsync(transition);
        }
    }

    /// <summary>
    /// Stores the state. If the store fails (say another activation of this log wrote first, as can
    /// happen while a dead silo's directory entries are rebuilt), the change never became durable:
    /// the activation goes back to what is stored and is dropped, so no later call, not even one
    /// that reaches it before it deactivates, answers from the unstored change.
    /// </summary>
    private async Task StoreAsync()
    {
        try
        {
            await log.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            _pendingRetry = null;
            _pendingCancel = false;
            await log.ReadStateAsync();
            throw;
        }
    }

    private async Task UnregisterRetryAsync()
    {
        var reminder = await this.GetReminder(RetryReminder);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private IDeliveryPartitionGrain Partition =>
        _partition ??= GrainFactory.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(DeliveryId, S.Partition));

    private IDeliveryPartitionGrain? _partition;

    private OutboundMessage Message(int attempt) =>
        new(DeliveryId, S.Partition, S.RecipientIndex, ProfileId, S.Address, S.Run!.Channel, attempt, S.Run.EmailFeedbackService, S.Run.Mta,
            S.Fields, S.Run.ValidUntil);

    private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {DeliveryId}: retry attempt {Attempt} relayed")]
    private partial void LogRetryRelayed(string deliveryId, int attempt);
}

public static class StorageNames
{
    public const string Deliveries = "deliveries";
    public const string Logs = "logs";
    public const string Addresses = "addresses";
}
