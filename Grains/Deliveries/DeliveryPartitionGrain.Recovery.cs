using DeliveryGrains.Logs;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The relay queue a crash took with it (R12.1). On the SMTP road (and a scenario's simulator) a handed
/// message stays <see cref="LogPhase.ToDeliver"/> until the relay's answer, and the queue it waits in
/// lives in the silo that handed it. The slice remembers those silos; once one is no longer an active
/// cluster member, every message still waiting for its first answer goes again with the same attempt,
/// so the same Message-ID: the server may see it twice (it was in flight at the crash), never zero times.
/// </summary>
public sealed partial class DeliveryPartitionGrain
{
    public async Task<int> ResumeHandedAsync()
    {
        if (!Slice.Prepared || S.Run is not { } run || S.Holders.Count == 0 || _superseded)
        {
            return 0;
        }

        var self = localSilo.SiloAddress;
        var members = membership.CurrentSnapshot;
        var gone = S.Holders
            .Where(h => SiloAddress.FromParsableString(h) is var holder && !holder.Equals(self) && members.GetSiloStatus(holder) != SiloStatus.Active)
            .ToList();
        if (gone.Count == 0)
        {
            return 0;
        }

        var resumed = 0;
        if (S.RelayState != RelayState.Stopped)
        {
            // Noted before handing: a crash of this silo in turn leaves its holding on record.
            NoteHolder(run);
            for (var i = 0; i < S.Count; i++)
            {
                if (!S.IsHanded(i) || new LogMark(S.Marks[i]).Phase != LogPhase.ToDeliver)
                {
                    continue;
                }

                await relay.RelayAsync(Message(i, attempt: S.Attempts[i]));
                resumed++;
            }
        }

        S.Holders.RemoveAll(gone.Contains);
        _unsaved = true;
        await SaveAsync();
        LogResumedHanded(DeliveryId, Index, resumed, gone.Count);
        return resumed;
    }

    /// <summary>This silo's relay takes the slice's next messages; only the roads that answer later keep them waiting.</summary>
    private void NoteHolder(DeliveryRun run)
    {
        if (!LogRules.AnsweredLater(run))
        {
            return;
        }

        var self = localSilo.SiloAddress.ToParsableString();
        if (!S.Holders.Contains(self))
        {
            S.Holders.Add(self);
            _unsaved = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: {Resumed} messages the relay queue of {Gone} gone silo(s) held went again")]
    private partial void LogResumedHanded(string deliveryId, int partition, int resumed, int gone);
}
