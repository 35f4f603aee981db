using DeliveryGrains.Hosting;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// While a delivery whose messages wait in a relay queue for their answer runs (the SMTP road, a
/// scenario's simulator), its partitions with messages not answered yet are asked every
/// <see cref="DeliveryEngineOptions.HandedWatchPeriod"/> to resume the ones a dead silo's queue took
/// (<see cref="IDeliveryPartitionGrain.ResumeHandedAsync"/>). The call also brings back a partition lost
/// with that silo, which nothing else would wake. A reminder wakes the delivery itself after a crash.
/// </summary>
public sealed partial class DeliveryGrain
{
    private const string HandedWatchReminder = "handed-watch";

    private IGrainTimer? _handedWatch;

    private bool AnsweredLater => Definition.Mta.Kind == MtaKind.Smtp || Definition.Mta.Scenario is not null;

    private Task RegisterHandedWatchReminderAsync() => AnsweredLater
        ? this.RegisterOrUpdateReminder(HandedWatchReminder, ReminderPeriods.Minimum, ReminderPeriods.Minimum)
        : Task.CompletedTask;

    private void WatchHanded()
    {
        if (!AnsweredLater || _handedWatch is not null)
        {
            return;
        }

        // Interleaved: it only reads the counts, and a partition's answer must not wait behind the delivery's own turns.
        _handedWatch = this.RegisterGrainTimer(
            WatchHandedTickAsync,
            new GrainTimerCreationOptions(Options.HandedWatchPeriod, Options.HandedWatchPeriod) { Interleave = true });
    }

    private async Task WatchHandedTickAsync(CancellationToken cancellationToken)
    {
        if (!IsRunning)
        {
            _handedWatch?.Dispose();
            _handedWatch = null;
            return;
        }

        var waiting = Enumerable.Range(0, S.PartitionCount).Where(p => S.Partitions[p].ToDeliver > 0).ToList();
        await Bounded.ForEachAsync(waiting, Options.PartitionsInFlight, async p =>
        {
            try
            {
                await Partition(p).ResumeHandedAsync();
            }
            catch (Exception ex)
            {
                // A partition in failover answers the next tick.
                LogHandedWatchFailed(ex, Id, p);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {DeliveryId}: partition {Partition} could not be asked for messages a gone relay held; asked again next time")]
    private partial void LogHandedWatchFailed(Exception ex, string deliveryId, int partition);
}
