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
public sealed partial class RecipientLogGrain(DeliveryLayouts layouts, ILogger<RecipientLogGrain> logger) : Grain, IRecipientLogGrain, IRemindable
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
                await this.RegisterOrUpdateReminder(RetryReminder, retryPeriod, RetryBackstop);
                break;
            case RetryCommand.Ensure when await this.GetReminder(RetryReminder) is null:
                await this.RegisterOrUpdateReminder(RetryReminder, retryPeriod, RetryBackstop);
                break;
            case RetryCommand.Cancel:
                await UnregisterRetryAsync();
                break;
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != RetryReminder)
        {
            return;
        }

        RetryAnswer answer;
        try
        {
            answer = await ((await PartitionAsync())?.RelayRetryAsync(ProfileId) ?? Task.FromResult(new RetryAnswer(RetryOutcome.NothingDue, default)));
        }
        catch (NotFoundException)
        {
            answer = new RetryAnswer(RetryOutcome.NothingDue, default);
        }

        if (answer.Outcome == RetryOutcome.Paused)
        {
            // R2: nothing is relayed while the delivery is paused; the retry waits one more period.
            await this.RegisterOrUpdateReminder(RetryReminder, answer.RetryPeriod, RetryBackstop);
            return;
        }

        if (answer.Outcome == RetryOutcome.Done)
        {
            LogRetryHandled(DeliveryId);
        }

        await UnregisterRetryAsync();
        DeactivateOnIdle();
    }

    private async Task UnregisterRetryAsync()
    {
        var reminder = await this.GetReminder(RetryReminder);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
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
