using DeliveryGrains.Logs;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The retry reminders of the slice's logs (R7.1) live in the logs' grains. Feedback brought in bulk
/// is answered as soon as it is stored; what it asks of the reminders goes into an outbox that this
/// activation carries out in the background, so the MTA's busiest path never waits on the reminder
/// service. An outbox lost with its activation is rebuilt from the logs on the next one: every log
/// whose retry is due and not relayed has its reminder set if it is missing. A retry the partition
/// relayed itself (DeliveryPartitionGrain.Retries.cs) takes its command out of the outbox if it is
/// still there, and has its reminder dropped if this activation set one.
/// </summary>
public sealed partial class DeliveryPartitionGrain
{
    private const int ReminderCommandsAtOnce = 256;

    /// <summary>
    /// Reminder commands a partition has in flight from its outbox. Few: the reminder service takes them
    /// at its own pace, and a flood of waiting calls from every partition would queue the silo's other
    /// work (view reads, flushes) behind them.
    /// </summary>
    private const int ReminderCommandsInFlight = 4;
    private static readonly TimeSpan ReminderCommandRetryDelay = TimeSpan.FromSeconds(1);

    private readonly Dictionary<int, RetryCommand> _reminderOutbox = [];
    private Task? _reminderPump;

    /// <summary>Logs whose retry reminder this activation set and has not dropped since.</summary>
    private readonly HashSet<int> _remindersSet = [];

    /// <summary>After an activation: the retries that are due and not relayed get their reminder back if it went missing.</summary>
    private void EnsureReminders()
    {
        for (var i = 0; i < S.Count; i++)
        {
            if (new LogMark(S.Marks[i]).Phase == LogPhase.AwaitingRetry && !S.Slot(i).RetryRelayed)
            {
                PostRetryCommand(i, RetryCommand.Ensure);
            }
        }

        PumpReminders();
    }

    private void PostRetryCommand(int index, RetryCommand command)
    {
        // The latest command for a log wins, except that making sure of a reminder does not undo setting it.
        _reminderOutbox[index] = command == RetryCommand.Ensure && _reminderOutbox.GetValueOrDefault(index) == RetryCommand.Schedule
            ? RetryCommand.Schedule
            : command;
        if (command is RetryCommand.Schedule or RetryCommand.Ensure)
        {
            ExpectRetry(index);
        }
    }

    /// <summary>The log's retry went out: a reminder not set yet is not set at all, one this activation set is dropped.</summary>
    private void ForgetReminder(int index)
    {
        if (_reminderOutbox.GetValueOrDefault(index) is RetryCommand.Schedule or RetryCommand.Ensure)
        {
            _reminderOutbox.Remove(index);
        }

        if (_remindersSet.Contains(index))
        {
            _reminderOutbox[index] = RetryCommand.Cancel;
        }
    }

    private bool AwaitsRetry(int index) => S.Slot(index) is { Phase: LogPhase.AwaitingRetry, RetryRelayed: false };

    /// <summary>Keeps <see cref="_remindersSet"/> true to what a command did; a reminder set for a retry that went out meanwhile is dropped.</summary>
    private void Carried(int index, RetryCommand command)
    {
        if (command == RetryCommand.Cancel)
        {
            _remindersSet.Remove(index);
            return;
        }

        _remindersSet.Add(index);
        if (!AwaitsRetry(index))
        {
            _reminderOutbox.TryAdd(index, RetryCommand.Cancel);
        }
    }

    private void PumpReminders()
    {
        if (_reminderOutbox.Count > 0 && _reminderPump is null)
        {
            _reminderPump = PumpRemindersAsync();
        }
    }

    private async Task PumpRemindersAsync()
    {
        try
        {
            // While the cluster's last silo stops the commands wait: the next activation sets the reminders again.
            while (_reminderOutbox.Count > 0 && S.Run is { } run && !departure.IsLeaving)
            {
                var batch = _reminderOutbox.Take(ReminderCommandsAtOnce).ToList();
                foreach (var (index, _) in batch)
                {
                    _reminderOutbox.Remove(index);
                }

                var failed = new List<(int Index, RetryCommand Command)>();
                await Hosting.Bounded.ForEachAsync(batch, ReminderCommandsInFlight, async c =>
                {
                    try
                    {
                        await LogGrain(c.Key).CommandRetryAsync(c.Value, run.RetryPeriod);
                        Carried(c.Key, c.Value);
                    }
                    catch (SiloLeavingException)
                    {
                        failed.Add((c.Key, c.Value));
                    }
                    catch (Exception ex)
                    {
                        failed.Add((c.Key, c.Value));
                        LogRetryCommandFailed(ex, DeliveryId, Index, c.Key);
                    }
                });

                if (failed.Count > 0)
                {
                    foreach (var (index, command) in failed)
                    {
                        _reminderOutbox.TryAdd(index, command);
                    }

                    if (departure.IsLeaving)
                    {
                        break;
                    }

                    await Task.Delay(ReminderCommandRetryDelay, time);
                }
            }
        }
        finally
        {
            _reminderPump = null;
        }
    }

    /// <summary>
    /// Carries out retry commands now, for the delivery's own calls (stop, expiry) that answer only once
    /// every reminder they dropped is gone. Commands for these logs still in the outbox are superseded.
    /// </summary>
    private async Task CommandRetriesNowAsync(List<(int Index, RetryCommand Command)> commands)
    {
        var period = S.Run?.RetryPeriod ?? TimeSpan.Zero;
        await Hosting.Bounded.ForEachAsync(commands, options.Value.RelayConcurrency, async c =>
        {
            _reminderOutbox.Remove(c.Index);
            try
            {
                await LogGrain(c.Index).CommandRetryAsync(c.Command, period);
                Carried(c.Index, c.Command);
            }
            catch (Exception ex)
            {
                // The log is final and stored: a reminder left behind finds nothing due when it fires and drops itself.
                LogRetryCommandFailed(ex, DeliveryId, Index, c.Index);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: the retry reminder of recipient {RecipientIndex} could not be set or dropped yet")]
    private partial void LogRetryCommandFailed(Exception ex, string deliveryId, int partition, int recipientIndex);
}
