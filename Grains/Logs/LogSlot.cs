using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;

namespace DeliveryGrains.Logs;

/// <summary>
/// One message's sending log, unpacked from its partition's columns for the time it takes to move it
/// (<see cref="PartitionProgress.Slot"/>, <see cref="PartitionProgress.Put"/>). The status machine of
/// R4–R7 works on this value only, so it is the same whichever path brought the event.
/// </summary>
public struct LogSlot
{
    public LogPhase Phase;
    public bool Opened;
    public bool Clicked;

    /// <summary>Handed to an MTA at least once: what "the log exists" means to readers and feedback.</summary>
    public bool Handed;

    /// <summary>While awaiting a retry: whether that retry attempt has gone to the MTA yet.</summary>
    public bool RetryRelayed;

    public int Attempts;
    public FailureType? FailureType;
    public FailureReason? FailureReason;
    public DateTimeOffset? RelayedAt;
    public DateTimeOffset? LastEventAt;

    /// <summary>While awaiting a retry: when it is due (R7.1), so a reminder that fires early relays nothing.</summary>
    public DateTimeOffset? RetryDueAt;

    public readonly LogMark Mark => LogMark.Of(Phase, Opened, Clicked);

    public readonly SendingLog ToSendingLog(Recipient recipient, bool emailFeedbackService) => new(
        recipient.ProfileId, recipient.Address ?? "", Phase.ToStatus(emailFeedbackService), FailureType, FailureReason,
        Phase == LogPhase.ToDeliver ? 0 : Attempts, RelayedAt, LastEventAt, Opened, Clicked, Phase);
}

/// <summary>
/// The status machine of one sending log (R4–R7): pure, on a <see cref="LogSlot"/>, with the run's
/// settings and the clock passed in. What it decides for the address (R9) and for the retry reminder
/// is answered, never carried out here.
/// </summary>
public static class LogRules
{
    /// <summary>
    /// Applies one new (not duplicate) event. An event dated after <paramref name="now"/> counts as now:
    /// no report happened in the future, and one would stand as the address's latest error (R9.2).
    /// </summary>
    public static AddressEffect? Apply(ref LogSlot slot, FeedbackEvent feedback, DeliveryRun run, DateTimeOffset now, ref RetryCommand retry)
    {
        var at = feedback.At > now ? now : feedback.At;
        var effect = Move(ref slot, feedback.Type, feedback.Reason, at, run, now, ref retry);
        slot.LastEventAt = Max(slot.LastEventAt, at);
        return effect;
    }

    private static AddressEffect? Move(
        ref LogSlot slot, FeedbackType type, FailureReason? given, DateTimeOffset at, DeliveryRun run, DateTimeOffset now, ref RetryCommand retry)
    {
        switch (type)
        {
            case FeedbackType.Open:
                slot.Opened = true;
                return null;
            case FeedbackType.Click:
                slot.Opened = true;
                slot.Clicked = true;
                return null;
            case FeedbackType.Complaint:
                return new AddressEffect(AddressEventKind.Complaint, null, at);
        }

        if (slot.Phase.IsFinal())
        {
            // R7.4: the message already has its final status.
            return null;
        }

        // R7.1: an outcome that comes while a retry is due is that retry's outcome, relayed or not.
        var reminderSet = slot.Phase == LogPhase.AwaitingRetry && !slot.RetryRelayed;
        if (reminderSet)
        {
            slot.Attempts++;
        }

        var reason = given ?? Logs.FailureReason.NotDefined;
        switch (type)
        {
            case FeedbackType.Delivered:
                slot.Phase = LogPhase.Delivered;
                slot.FailureType = null;
                slot.FailureReason = null;
                retry = Cancelled(retry, reminderSet);
                return new AddressEffect(AddressEventKind.Success, null, at);

            case FeedbackType.HardBounce:
                retry = Cancelled(retry, reminderSet);
                Fail(ref slot, Logs.FailureType.Hard, reason);
                return new AddressEffect(AddressEventKind.HardBounce, reason, at);

            case FeedbackType.SoftBounce:
                var failure = reason.UsualType() == Logs.FailureType.Ignored ? Logs.FailureType.Ignored : Logs.FailureType.Soft;
                slot.FailureType = failure;
                slot.FailureReason = reason;
                retry = ScheduleRetryOrFail(ref slot, at, run, now, retry, reminderSet);
                return new AddressEffect(
                    failure == Logs.FailureType.Ignored ? AddressEventKind.IgnoredFailure : AddressEventKind.SoftBounce, reason, at);

            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown feedback type.");
        }
    }

    private static RetryCommand ScheduleRetryOrFail(ref LogSlot slot, DateTimeOffset at, DeliveryRun run, DateTimeOffset now, RetryCommand retry, bool reminderSet)
    {
        var retriesLeft = run.MaxRetries - (slot.Attempts - 1);
        var retryAt = Max(now, at) + run.RetryPeriod;
        if (retriesLeft <= 0 || retryAt > run.ValidUntil)
        {
            // R7.1: a soft bounce on the last allowed retry, or one no retry can follow in time, fails at once.
            slot.Phase = LogPhase.Failed;
            return Cancelled(retry, reminderSet);
        }

        slot.Phase = LogPhase.AwaitingRetry;
        slot.RetryRelayed = false;
        slot.RetryDueAt = retryAt;
        return RetryCommand.Schedule;
    }

    /// <summary>R7.3: the validity period ended. Answers whether the log moved.</summary>
    public static bool Expire(ref LogSlot slot, DeliveryRun run, DateTimeOffset at, ref RetryCommand retry)
    {
        switch (slot.Phase)
        {
            case LogPhase.AwaitingRetry:
                // R5.5 / R6.6: the latest outcome was a soft bounce and no retry may follow.
                retry = Cancelled(retry, reminderSet: !slot.RetryRelayed);
                slot.Phase = LogPhase.Failed;
                break;
            case LogPhase.AwaitingOutcome when run.EmailFeedbackService:
                Fail(ref slot, Logs.FailureType.Ignored, Logs.FailureReason.Expired);
                break;
            case LogPhase.AwaitingOutcome:
                // Without EFS a relayed message counts as Sent unless a bounce said otherwise (R5.1).
                slot.Phase = LogPhase.Delivered;
                break;
            default:
                return false;
        }

        slot.LastEventAt = Max(slot.LastEventAt, at);
        return true;
    }

    /// <summary>R2 stop: a retry still due will never be relayed; the message fails for good.</summary>
    public static bool CancelRetry(ref LogSlot slot, DateTimeOffset at, ref RetryCommand retry)
    {
        if (slot.Phase != LogPhase.AwaitingRetry)
        {
            return false;
        }

        retry = Cancelled(retry, reminderSet: !slot.RetryRelayed);
        slot.Phase = LogPhase.Failed;
        slot.LastEventAt = Max(slot.LastEventAt, at);
        return true;
    }

    /// <summary>The first attempt went to the MTA: over SMTP or under a scenario (R12.1, R12.5) it counts as relayed only once answered.</summary>
    public static void Relay(ref LogSlot slot, DeliveryRun run, DateTimeOffset now)
    {
        var answeredLater = AnsweredLater(run);
        slot.Handed = true;
        slot.Attempts = 1;
        slot.Phase = answeredLater ? LogPhase.ToDeliver : LogPhase.AwaitingOutcome;
        slot.RelayedAt = answeredLater ? null : now;
        slot.LastEventAt = now;
    }

    public static bool AnsweredLater(DeliveryRun run) => run.Mta.Kind == MtaKind.Smtp || run.Mta.Scenario is not null;

    private static void Fail(ref LogSlot slot, FailureType type, FailureReason reason)
    {
        slot.Phase = LogPhase.Failed;
        slot.FailureType = type;
        slot.FailureReason = reason;
    }

    /// <summary>
    /// A retry that was due no longer is. Its reminder is dropped unless the retry already went out
    /// (the reminder went with it); a reminder left over finds nothing to retry and drops itself.
    /// </summary>
    private static RetryCommand Cancelled(RetryCommand retry, bool reminderSet) =>
        reminderSet ? RetryCommand.Cancel : retry == RetryCommand.Schedule ? RetryCommand.None : retry;

    public static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
