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
        if (!Slice.Prepared || S.Run is not { } run || S.Holders.Count == 0 || _superseded || S.HolderOf.Length != S.Count)
        {
            return 0;
        }

        var self = localSilo.SiloAddress;
        var members = membership.CurrentSnapshot;
        var gone = new HashSet<byte>();
        for (var k = 0; k < S.Holders.Count; k++)
        {
            if (S.Holders[k].Length > 0 && SiloAddress.FromParsableString(S.Holders[k]) is var holder
                && !holder.Equals(self) && members.GetSiloStatus(holder) != SiloStatus.Active)
            {
                gone.Add((byte)(k + 1));
            }
        }

        if (gone.Count == 0)
        {
            return 0;
        }

        var resumed = 0;
        if (S.RelayState != RelayState.Stopped)
        {
            // Noted before handing: a crash of this silo in turn leaves its holding on record.
            var holderNow = NoteHolder(run);
            for (var i = 0; i < S.Count; i++)
            {
                if (!gone.Contains(S.HolderOf[i]) || !S.IsHanded(i) || new LogMark(S.Marks[i]).Phase != LogPhase.ToDeliver)
                {
                    continue;
                }

                await relay.RelayAsync(Message(i, attempt: S.Attempts[i]));
                MarkHolder(i, holderNow);
                resumed++;
            }
        }

        foreach (var k in gone)
        {
            // Emptied, not removed: the other recipients' places in the list stay what they were.
            S.Holders[k - 1] = "";
        }

        _unsaved = true;
        await SaveAsync();
        LogResumedHanded(DeliveryId, Index, resumed, gone.Count);
        return resumed;
    }

    /// <summary>
    /// This silo's relay takes the slice's next messages: its place in <see cref="PartitionProgress.Holders"/>
    /// + 1, or 0 for the roads that answer at once (nothing waits in a queue for them).
    /// </summary>
    private byte NoteHolder(DeliveryRun run)
    {
        if (!LogRules.AnsweredLater(run) || S.HolderOf.Length != S.Count)
        {
            return 0;
        }

        var self = localSilo.SiloAddress.ToParsableString();
        var place = S.Holders.IndexOf(self);
        if (place < 0)
        {
            // A place another silo left empty is taken again once every message it held went elsewhere.
            place = S.Holders.IndexOf("");
            if (place >= 0 && Array.IndexOf(S.HolderOf, (byte)(place + 1)) < 0)
            {
                S.Holders[place] = self;
            }
            else if (S.Holders.Count < byte.MaxValue)
            {
                S.Holders.Add(self);
                place = S.Holders.Count - 1;
            }
            else
            {
                return 0;
            }

            _unsaved = true;
        }

        return (byte)(place + 1);
    }

    private void MarkHolder(int index, byte holder)
    {
        if (holder != 0)
        {
            S.HolderOf[index] = holder;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} partition {Partition}: {Resumed} messages the relay queue of {Gone} gone silo(s) held went again")]
    private partial void LogResumedHanded(string deliveryId, int partition, int resumed, int gone);
}
