using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace DeliveryGrains.Logs;

/// <summary>
/// One recipient's sending log as an address. The log itself lives in its partition's columns
/// (<see cref="DeliveryPartitionGrain"/>), which alone changes it; this grain keeps no copy. It is
/// activated only when the log is addressed on its own: an external MTA's feedback, a read, and the
/// retry after a soft bounce (R7.1), whose reminder it holds: the only per-recipient reminder in the
/// engine, set after the soft bounce is stored and dropped once the retry went out or is no longer due.
/// Not profiled by the dashboard: a soft-bouncing delivery activates many of them.
/// </summary>
[NoProfiling]
[GrainType(GrainTypeName)]
public sealed partial class RecipientLogGrain(DeliveryLayouts layouts, TimeProvider time, ILogger<RecipientLogGrain> logger) : Grain, IRecipientLogGrain, IRemindable
{
    public const string GrainTypeName = "recipient-log";

    private const string RetryReminder = "retry";

    /// <summary>
    /// The retry reminder fires once at the due time and is dropped when the retry goes out; its period
    /// only matters when that tick is missed (its silo died), so it is the shortest Orleans allows,
    /// not the retry period (an hour by default) that would delay the retry by as much again.
    /// </summary>
    private static readonly TimeSpan RetryBackstop = ReminderPeriods.Minimum;

    private string DeliveryId => GrainKeys.Split(this.GetPrimaryKeyString()).DeliveryId;

    private string ProfileId => GrainKeys.Split(this.GetPrimaryKeyString()).Tail;

    public async Task<FeedbackOutcome> ApplyFeedbackAsync(FeedbackEvent feedback) =>
        (await ApplyFeedbackBatchAsync([feedback]))[0];

    public async Task<IReadOnlyList<FeedbackOutcome>> ApplyFeedbackBatchAsync(IReadOnlyList<FeedbackEvent> feedback)
    {
        var partition = await PartitionAsync() ?? throw NoRelayedMessage();
        var answer = await partition.ApplyLogFeedbackAsync(ProfileId, feedback);
        await CommandRetryAsync(answer.Retry, answer.RetryPeriod);
        return answer.Outcomes;
    }

    public async Task<Tracking.AnswerOutcome> UnsubscribeAsync(DateTimeOffset at) =>
        await PartitionAsync() is { } partition
            ? await partition.UnsubscribeAsync(-1, ProfileId, at)
            : Tracking.AnswerOutcome.NoMessage;

    public async Task<SendingLog?> GetLogAsync()
    {
        var partition = await PartitionAsync();
        return partition is null ? null : await partition.ReadLogAsync(ProfileId);
    }

    public async Task CommandRetryAsync(RetryCommand command, TimeSpan retryPeriod)
    {
        switch (command)
        {
            case RetryCommand.Schedule:
                await SetRetryReminderAsync(retryPeriod);
                break;
            case RetryCommand.Ensure when await this.GetReminder(RetryReminder) is null:
                await SetRetryReminderAsync(retryPeriod);
                break;
            case RetryCommand.Cancel:
                await UnregisterRetryAsync();
                break;
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == RetryReminder)
        {
            await RetryIfDueAsync();
        }
    }

    /// <summary>
    /// Sets the reminder <paramref name="dueIn"/> ahead. The reminder service anchors ticks at the time
    /// asked for and skips a tick whose time passed before it took the reminder (under a heavy load it
    /// can take longer than a short retry period), which would leave the retry to the next period, a
    /// minute later: a retry already due once the reminder is set goes at once instead.
    /// </summary>
    private async Task SetRetryReminderAsync(TimeSpan dueIn)
    {
        var asked = time.GetTimestamp();
        _retryReminder = await this.RegisterOrUpdateReminder(RetryReminder, dueIn, RetryBackstop);
        if (time.GetElapsedTime(asked) >= dueIn)
        {
            await RetryIfDueAsync();
        }
    }

    /// <summary>Relays the retry through the partition if it is due; the reminder goes once nothing is left to wait for.</summary>
    private async Task RetryIfDueAsync()
    {
        RetryAnswer answer;
        try
        {
            answer = await ((await PartitionAsync())?.RelayRetryAsync(ProfileId) ?? Task.FromResult(new RetryAnswer(RetryOutcome.NothingDue, default)));
        }
        catch (NotFoundException)
        {
            answer = new RetryAnswer(RetryOutcome.NothingDue, default);
        }

        switch (answer.Outcome)
        {
            case RetryOutcome.Paused:
                // R2: nothing is relayed while the delivery is paused; the retry waits one more period.
                _retryReminder = await this.RegisterOrUpdateReminder(RetryReminder, answer.WaitFor, RetryBackstop);
                return;
            case RetryOutcome.NotYet:
                // An early tick: the retry waits the rest of its period.
                await SetRetryReminderAsync(answer.WaitFor);
                return;
            case RetryOutcome.Done:
                LogRetryHandled(DeliveryId);
                break;
        }

        await UnregisterRetryAsync();
        DeactivateOnIdle();
    }

    /// <summary>The handle of the reminder this activation set, which saves reading it back to drop it.</summary>
    private IGrainReminder? _retryReminder;

    private async Task UnregisterRetryAsync()
    {
        var reminder = _retryReminder ?? await this.GetReminder(RetryReminder);
        _retryReminder = null;
        if (reminder is null)
        {
            return;
        }

        try
        {
            await this.UnregisterReminder(reminder);
        }
        catch (ReminderException)
        {
            // Changed since this activation set it (say after a silo's death): drop what is there now.
            if (await this.GetReminder(RetryReminder) is { } current)
            {
                await this.UnregisterReminder(current);
            }
        }
    }

    /// <summary>The partition that holds this log; null while the delivery has none (not prepared, or no such delivery).</summary>
    private async Task<IDeliveryPartitionGrain?> PartitionAsync()
    {
        if (_partition is null)
        {
            var count = await layouts.PartitionCountAsync(DeliveryId);
            if (count == 0)
            {
                return null;
            }

            _partition = GrainFactory.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(DeliveryId, StableHash.Bucket(ProfileId, count)));
        }

        return _partition;
    }

    private IDeliveryPartitionGrain? _partition;

    private NotFoundException NoRelayedMessage() =>
        new($"Delivery '{DeliveryId}' has no relayed message for profile '{ProfileId}'.");

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {DeliveryId}: a retry reminder fired and its retry went out or settled")]
    private partial void LogRetryHandled(string deliveryId);
}

public static class StorageNames
{
    public const string Deliveries = "deliveries";
    public const string Addresses = "addresses";
}
