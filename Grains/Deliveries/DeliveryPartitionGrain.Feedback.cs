using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>What moves the slice's logs after their relay: MTA feedback, SMTP replies, retries and the end of validity.</summary>
public sealed partial class DeliveryPartitionGrain
{
    public async Task<IReadOnlyList<int>> ApplyFeedbackAsync(IReadOnlyList<LogFeedback> feedback)
    {
        EnsurePrepared();
        var commands = new List<(int Index, RetryCommand Command)>();
        List<int>? unknown = null;
        foreach (var item in feedback)
        {
            if ((uint)item.RecipientIndex >= (uint)S.Count || !S.IsHanded(item.RecipientIndex))
            {
                (unknown ??= []).Add(item.RecipientIndex);
                continue;
            }

            var (_, command) = Apply(item.RecipientIndex, item.Events);
            if (command != RetryCommand.None)
            {
                commands.Add((item.RecipientIndex, command));
            }
        }

        // Stored before the answer: the caller forgets what was answered as taken. The reminders follow.
        await SaveAsync();
        foreach (var (index, command) in commands)
        {
            PostRetryCommand(index, command);
        }

        PumpReminders();
        return (IReadOnlyList<int>?)unknown ?? [];
    }

    public async Task<LogFeedbackAnswer> ApplyLogFeedbackAsync(string profileId, IReadOnlyList<FeedbackEvent> feedback)
    {
        var index = HandedIndexOf(profileId);
        var (outcomes, command) = Apply(index, feedback);
        await SaveAsync();
        if (command == RetryCommand.Schedule)
        {
            // The log's grain sets the reminder it is answered (this call's answer comes before any drop of it);
            // the partition relays the retry when it falls due.
            _remindersSet.Add(index);
            ExpectRetry(index);
        }

        return new LogFeedbackAnswer(outcomes, command, S.Run!.RetryPeriod);
    }

    public async Task RecordSmtpReplyAsync(int recipientIndex, SmtpReply reply)
    {
        if (!IsHanded(recipientIndex))
        {
            throw NoRelayedMessage(recipientIndex < S.Count && recipientIndex >= 0 ? Slice.Members[recipientIndex].ProfileId : $"#{recipientIndex}");
        }

        var command = ApplySmtpReply(recipientIndex, reply);
        await SaveAsync();
        if (command != RetryCommand.None)
        {
            PostRetryCommand(recipientIndex, command);
            PumpReminders();
        }
    }

    public async Task<IReadOnlyList<int>> RecordSmtpRepliesAsync(IReadOnlyList<IndexedSmtpReply> replies)
    {
        List<int>? unknown = null;
        List<(int Index, RetryCommand Command)>? commands = null;
        foreach (var (index, reply) in replies)
        {
            if (!IsHanded(index))
            {
                (unknown ??= []).Add(index);
                continue;
            }

            var command = ApplySmtpReply(index, reply);
            if (command != RetryCommand.None)
            {
                (commands ??= []).Add((index, command));
            }
        }

        // One write for the whole batch, stored before the answer: the relay forgets what was answered.
        await SaveAsync();
        if (commands is not null)
        {
            foreach (var (index, command) in commands)
            {
                PostRetryCommand(index, command);
            }

            PumpReminders();
        }

        return (IReadOnlyList<int>?)unknown ?? [];
    }

    private bool IsHanded(int recipientIndex) => (uint)recipientIndex < (uint)S.Count && S.IsHanded(recipientIndex);

    /// <summary>Applies one SMTP reply to a handed log in memory; answers what its retry reminder must do.</summary>
    private RetryCommand ApplySmtpReply(int recipientIndex, SmtpReply reply)
    {
        var slot = S.Slot(recipientIndex);
        if (reply.Attempt != slot.Attempts)
        {
            // The answer to an attempt this log has moved past (a late repeat): nothing to learn from it.
            return RetryCommand.None;
        }

        var firstAnswer = slot.Phase == LogPhase.ToDeliver;
        if (firstAnswer)
        {
            // R12.1: the first answered transaction is the relay (R8.1 sent).
            var before = slot.Mark;
            slot.Phase = LogPhase.AwaitingOutcome;
            slot.RelayedAt = reply.At;
            slot.LastEventAt = LogRules.Max(slot.LastEventAt, reply.At);
            Put(recipientIndex, slot, before);
        }

        var type = reply.Bounce
            ?? (!firstAnswer && slot.Phase == LogPhase.AwaitingRetry && slot.RetryRelayed ? FeedbackType.Delivered : (FeedbackType?)null);
        if (type is not { } t)
        {
            return RetryCommand.None;
        }

        // A 250 to a retry is that retry's success (R5.4, R6.5); a refusal is the attempt's bounce (R12.2).
        var profileId = Slice.Members[recipientIndex].ProfileId;
        // R14.1: a message that could not be rendered fails, but its address did nothing wrong.
        var (_, command) = Apply(recipientIndex, [new FeedbackEvent($"smtp:{reply.Attempt}:{t}", DeliveryId, profileId, t, reply.Reason, reply.At)],
            blameAddress: !reply.ContentFailed);
        return command;
    }

    public async Task<PartitionCounts> ExpireAsync(DateTimeOffset at)
    {
        var commands = new List<(int Index, RetryCommand Command)>();
        if (S.Run is { } run)
        {
            for (var i = 0; i < S.Count; i++)
            {
                if (new LogMark(S.Marks[i]).Phase is not (LogPhase.AwaitingOutcome or LogPhase.AwaitingRetry))
                {
                    continue;
                }

                var slot = S.Slot(i);
                var before = slot.Mark;
                var command = RetryCommand.None;
                if (LogRules.Expire(ref slot, run, at, ref command))
                {
                    Put(i, slot, before);
                }

                if (command != RetryCommand.None)
                {
                    commands.Add((i, command));
                }
            }
        }

        await SaveAsync();
        await CommandRetriesNowAsync(commands);
        return await AnswerCountsAsync();
    }

    /// <summary>Applies new events to one log in order; one outcome per event, and what its retry reminder must do.</summary>
    private (FeedbackOutcome[] Outcomes, RetryCommand Command) Apply(int index, IReadOnlyList<FeedbackEvent> feedback, bool blameAddress = true)
    {
        var run = S.Run!;
        var slot = S.Slot(index);
        var before = slot.Mark;
        var outcomes = new FeedbackOutcome[feedback.Count];
        var command = RetryCommand.None;
        var now = time.GetUtcNow();
        var changed = false;
        for (var n = 0; n < feedback.Count; n++)
        {
            var e = feedback[n];
            if (!S.TryAddSeen(index, e.EventId))
            {
                outcomes[n] = FeedbackOutcome.Duplicate;
                metrics.FeedbackDuplicate();
                continue;
            }

            outcomes[n] = FeedbackOutcome.Accepted;
            changed = true;
            if (e.Type == FeedbackType.Complaint && S.Complained.Add(index))
            {
                // R13.5: the delivery counts complaining recipients, once each.
                metrics.Complained();
                MarkCountsChanged();
            }

            metrics.FeedbackApplied(e.Type);
            var effect = LogRules.Apply(ref slot, e, run, now, ref command);
            if (blameAddress)
            {
                AddAddressEffect(index, effect);
            }
        }

        if (command == RetryCommand.Schedule)
        {
            metrics.RetryScheduled();
        }
        else if (command == RetryCommand.None && slot.Phase == LogPhase.AwaitingRetry && !slot.RetryRelayed)
        {
            // A repeat of the events that scheduled a retry, say after the reminder could not be set: set it if it is missing.
            command = RetryCommand.Ensure;
        }

        if (changed)
        {
            Put(index, slot, before);
        }

        return (outcomes, command);
    }

    private int HandedIndexOf(string profileId)
    {
        var index = Slice.Prepared ? IndexOf(profileId) : -1;
        return index >= 0 && S.IsHanded(index) ? index : throw NoRelayedMessage(profileId);
    }

    private NotFoundException NoRelayedMessage(string profileId) =>
        new($"Delivery '{DeliveryId}' has no relayed message for profile '{profileId}'.");
}
