using DeliveryGrains.Logs;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// Retries after a soft bounce (R7.1). While the partition is active it relays each retry itself, on
/// its flush timer, once the retry period is over: a retry then costs no reminder tick, and a burst
/// of soft bounces drains at the relay's pace, not the reminder service's. The retry reminder in the
/// log's grain stays the backstop for when the partition is not active when the retry falls due (it
/// was collected, or its silo died): it wakes the log's grain, which asks the partition to relay.
/// A reminder command that has not gone out yet when its retry is relayed is dropped from the outbox.
/// <para>
/// An activation that finds another one of the same partition stored since it read (a duplicate
/// activation during a failover: its write is refused) relays nothing more and deactivates. Before
/// that first refused write it may have relayed one tick's due retries that the other relays too: the
/// same window as a crash between handing a message over and storing it, which re-relays the attempt
/// with the same message id for the MTA to drop.
/// </para>
/// </summary>
public sealed partial class DeliveryPartitionGrain
{
    /// <summary>How early a retry may go and still count as due: timers are not more precise than this.</summary>
    private static readonly TimeSpan RetryDueTolerance = TimeSpan.FromMilliseconds(50);

    /// <summary>Retries waiting for their due time, by due time (UTC ticks); an entry the log has moved past is skipped.</summary>
    private readonly PriorityQueue<int, long> _dueRetries = new();

    /// <summary>Logs whose retry is being handed to the MTA now, by either road: the other one leaves it alone.</summary>
    private readonly HashSet<int> _retriesRelaying = [];

    public async Task<RetryAnswer> RelayRetryAsync(string profileId)
    {
        var index = HandedIndexOf(profileId);
        var run = S.Run!;
        var slot = S.Slot(index);
        if (slot.Phase != LogPhase.AwaitingRetry || slot.RetryRelayed || _retriesRelaying.Contains(index))
        {
            return new RetryAnswer(RetryOutcome.NothingDue, run.RetryPeriod);
        }

        if (S.RelayState == RelayState.Paused)
        {
            // R2: nothing is relayed while the delivery is paused; the retry waits one more period.
            return new RetryAnswer(RetryOutcome.Paused, run.RetryPeriod);
        }

        var now = time.GetUtcNow();
        if (slot.RetryDueAt is { } due && due - now > RetryDueTolerance && S.RelayState == RelayState.Running)
        {
            // R7.1: never before the retry period is over, whatever woke the reminder.
            return new RetryAnswer(RetryOutcome.NotYet, due - now);
        }

        if (!await RelayRetryNowAsync(index, run))
        {
            return new RetryAnswer(RetryOutcome.NothingDue, run.RetryPeriod);
        }

        // The log's grain drops its reminder on this answer.
        _remindersSet.Remove(index);
        await SaveAsync();
        return new RetryAnswer(RetryOutcome.Done, run.RetryPeriod);
    }

    /// <summary>Notes a log's retry, if it is waiting for one, to be relayed when it falls due.</summary>
    private void ExpectRetry(int index)
    {
        if (S.Slot(index) is { Phase: LogPhase.AwaitingRetry, RetryRelayed: false, RetryDueAt: { } due })
        {
            _dueRetries.Enqueue(index, due.UtcTicks);
        }
    }

    /// <summary>
    /// Relays every retry that is due (nothing while the delivery is paused), stores the logs once, then
    /// drops the reminders those retries no longer need. A retry whose relay failed waits for the next tick.
    /// </summary>
    private async Task RelayDueRetriesAsync()
    {
        if (_dueRetries.Count == 0 || S.Run is not { } run || S.RelayState == RelayState.Paused || _superseded)
        {
            return;
        }

        var horizon = (time.GetUtcNow() + RetryDueTolerance).UtcTicks;
        var due = new List<(int Index, long At)>();
        while (_dueRetries.TryPeek(out var index, out var at) && at <= horizon)
        {
            _dueRetries.Dequeue();
            if (S.Slot(index) is { Phase: LogPhase.AwaitingRetry, RetryRelayed: false, RetryDueAt: { } dueAt } && dueAt.UtcTicks == at)
            {
                due.Add((index, at));
            }
        }

        var relayed = new List<int>(due.Count);
        try
        {
            for (var n = 0; n < due.Count; n++)
            {
                try
                {
                    if (await RelayRetryNowAsync(due[n].Index, run))
                    {
                        relayed.Add(due[n].Index);
                    }
                }
                catch (Exception ex)
                {
                    // The MTA did not take it: this one and the rest wait for the next tick, as stored.
                    LogRetryRelayFailed(ex, DeliveryId, Index, due.Count - n);
                    foreach (var (index, at) in due.Skip(n))
                    {
                        _dueRetries.Enqueue(index, at);
                    }

                    break;
                }
            }
        }
        finally
        {
            if (relayed.Count > 0)
            {
                await SaveAsync();
            }
        }

        foreach (var index in relayed)
        {
            ForgetReminder(index);
        }

        PumpReminders();
    }

    /// <summary>
    /// Hands one log's retry to the MTA, or fails the log when no retry may go any more (R7.3, R2 stop);
    /// false when there was nothing to do (already relayed, settled, or being relayed by the other road).
    /// The attempt counts once the relay took it: a relay that fails leaves the log as it was.
    /// </summary>
    private async Task<bool> RelayRetryNowAsync(int index, DeliveryRun run)
    {
        if (_superseded || !_retriesRelaying.Add(index))
        {
            return false;
        }

        try
        {
            var slot = S.Slot(index);
            if (slot.Phase != LogPhase.AwaitingRetry || slot.RetryRelayed)
            {
                return false;
            }

            var now = time.GetUtcNow();
            var before = slot.Mark;
            if (now >= run.ValidUntil || S.RelayState == RelayState.Stopped)
            {
                slot.Phase = LogPhase.Failed;
                slot.LastEventAt = now;
            }
            else
            {
                var attempts = slot.Attempts;
                await relay.RelayAsync(Message(index, attempts + 1));
                metrics.Relayed(retry: true);
                slot = S.Slot(index);
                before = slot.Mark;
                if (slot.Phase == LogPhase.AwaitingRetry && !slot.RetryRelayed && slot.Attempts == attempts)
                {
                    // Unless the retry's outcome came while it was being handed over: that counted the
                    // attempt, and a soft bounce then awaits the next retry, which is not relayed yet.
                    slot.Attempts++;
                    slot.RetryRelayed = true;
                }

                LogRetryRelayed(DeliveryId, slot.Attempts);
            }

            Put(index, slot, before);
            return true;
        }
        finally
        {
            _retriesRelaying.Remove(index);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {DeliveryId}: retry attempt {Attempt} relayed")]
    private partial void LogRetryRelayed(string deliveryId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: the MTA did not take a due retry; {Count} retries wait for the next tick")]
    private partial void LogRetryRelayFailed(Exception ex, string deliveryId, int partition, int count);
}
