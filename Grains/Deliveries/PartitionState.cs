using DeliveryGrains.Logs;

namespace DeliveryGrains.Deliveries;

/// <summary>What a partition was prepared with; written once, at preparation.</summary>
[GenerateSerializer, Alias("PartitionState")]
public sealed class PartitionState
{
    [NonSerialized]
    private GeneratedMembers? _generatedMembers;

    /// <summary>A listed target's recipients this slice sends to, in target order; empty for a generated target.</summary>
    [Id(0)] public List<Recipient> Recipients { get; set; } = [];

    [Id(4)] public bool Prepared { get; set; }

    /// <summary>A generated target's slice, kept as target indices; null for a listed target.</summary>
    [Id(5)] public GeneratedSlice? Generated { get; set; }

    /// <summary>The slice's recipients in order, listed or generated; a recipient's index is its place here.</summary>
    public IReadOnlyList<Recipient> Members => Generated is { } generated
        ? _generatedMembers is { } made && ReferenceEquals(made.Slice, generated) ? made : _generatedMembers = new GeneratedMembers(generated)
        : Recipients;

    /// <summary>The generated slice's members, for finding a profile by its id without a dictionary; null for a listed target.</summary>
    public GeneratedMembers? GeneratedMembers => Members as GeneratedMembers;
}

/// <summary>
/// The sending logs of a partition's recipients, one column per field (about 33 bytes a recipient),
/// and how far the partition has got. Durable mode stores it as a head and fixed chunks of recipients
/// and writes only the chunks a call changed (PartitionProgress.Chunks.cs). Kept apart from <see cref="PartitionState"/> so a
/// write stores the logs, not the recipient list again.
/// </summary>
[GenerateSerializer, Alias("PartitionProgress")]
public sealed partial class PartitionProgress
{
    /// <summary>One <see cref="LogMark"/> per recipient: phase, opened, clicked. The counts are made from it.</summary>
    [Id(0)] public byte[] Marks { get; set; } = [];

    /// <summary>Recipients below this index have been relayed.</summary>
    [Id(1)] public int RelayCursor { get; set; }

    /// <summary>Grows with every flush, so the delivery keeps only a partition's latest counts.</summary>
    [Id(2)] public long Version { get; set; }

    /// <summary>Whether the delivery lets this slice relay (first attempts and retries).</summary>
    [Id(3)] public RelayState RelayState { get; set; }

    /// <summary>The settings the slice relays with; null until its first relay.</summary>
    [Id(4)] public DeliveryRun? Run { get; set; }

    [Id(5)] public byte[] Attempts { get; set; } = [];

    /// <summary>0 for none, else (failure type + 1) in the high nibble and the reason in the low one.</summary>
    [Id(6)] public byte[] Failures { get; set; } = [];

    /// <summary><see cref="HandedBit"/> and <see cref="RetryRelayedBit"/>.</summary>
    [Id(7)] public byte[] Flags { get; set; } = [];

    /// <summary>UTC ticks; 0 for none.</summary>
    [Id(8)] public long[] RelayedAt { get; set; } = [];

    /// <summary>UTC ticks; 0 for none.</summary>
    [Id(9)] public long[] LastEventAt { get; set; } = [];

    /// <summary>The simulated MTA's event ids already applied, one bit each (<see cref="SeenEvents"/>).</summary>
    [Id(10)] public uint[] SeenSimulated { get; set; } = [];

    /// <summary>Every other event id already applied, by recipient index; most recipients have none.</summary>
    [Id(11)] public Dictionary<int, string[]> SeenOther { get; set; } = [];

    /// <summary>UTC ticks when the awaited retry is due; 0 for none.</summary>
    [Id(12)] public long[] RetryDueAt { get; set; } = [];

    /// <summary>
    /// The silos (parsable addresses) whose relay queue took messages of this slice that wait for their
    /// answer (the SMTP road and scenarios): a holder that is no longer an active member took them with it.
    /// </summary>
    [Id(13)] public List<string> Holders { get; set; } = [];

    /// <summary>
    /// Per recipient, which of <see cref="Holders"/> took its first attempt (its place there + 1; 0 for
    /// none), so only the messages of a gone holder go again. A gone holder's place is kept, emptied.
    /// </summary>
    [Id(19)] public byte[] HolderOf { get; set; } = [];

    /// <summary>
    /// Address events (R9) the slice could not hand to the address book because the last silo of the
    /// cluster was stopping; the next activation sends them.
    /// </summary>
    [Id(14)] public List<Addresses.AddressEvent> PendingAddressEvents { get; set; } = [];

    /// <summary>R13.4: recipients who unsubscribed from this delivery; few, so a set rather than a column.</summary>
    [Id(15)] public HashSet<int> Unsubscribed { get; set; } = [];

    /// <summary>R13.5: recipients who complained about this delivery.</summary>
    [Id(16)] public HashSet<int> Complained { get; set; } = [];

    /// <summary>R13.3: clicks per link index of the message.</summary>
    [Id(17)] public Dictionary<int, LinkTally> Links { get; set; } = [];

    /// <summary>
    /// The ids of the latest tracking hits applied, oldest first, at most <see cref="RecentHitLimit"/>.
    /// A hit is offered again only within seconds of its first offer (a silo's recorder retrying a
    /// failed batch), so the latest ids are enough to take each one once; keeping every id would let
    /// a client that loads one pixel in a loop grow a log's state without bound.
    /// </summary>
    [Id(18)] public List<Guid> RecentHits { get; set; } = [];

    public const int RecentHitLimit = 4096;

    [NonSerialized]
    private HashSet<Guid>? _recentHitSet;

    /// <summary>Records a tracking hit id; false when it was applied before. 16 bytes each: 64 KiB at the limit.</summary>
    public bool TryAddHit(Guid hitId)
    {
        _recentHitSet ??= [.. RecentHits];
        if (!_recentHitSet.Add(hitId))
        {
            return false;
        }

        RecentHits.Add(hitId);
        if (RecentHits.Count > RecentHitLimit)
        {
            var drop = RecentHits.Count - RecentHitLimit;
            foreach (var old in RecentHits.Take(drop))
            {
                _recentHitSet.Remove(old);
            }

            RecentHits.RemoveRange(0, drop);
        }

        return true;
    }

    private const byte HandedBit = 1;
    private const byte RetryRelayedBit = 2;

    public int Count => Marks.Length;

    /// <summary>Empty columns for <paramref name="count"/> recipients, every one ToDeliver.</summary>
    public void Reset(int count)
    {
        Marks = new byte[count];
        Attempts = new byte[count];
        Failures = new byte[count];
        Flags = new byte[count];
        RelayedAt = new long[count];
        LastEventAt = new long[count];
        SeenSimulated = new uint[count];
        RetryDueAt = new long[count];
        HolderOf = new byte[count];
        Holders = [];
        SeenOther = [];
        Unsubscribed = [];
        Complained = [];
        Links = [];
        RecentHits = [];
        _recentHitSet = null;
        RelayCursor = 0;
    }

    public LogSlot Slot(int index)
    {
        var mark = new LogMark(Marks[index]);
        var failure = Failures[index];
        return new LogSlot
        {
            Phase = mark.Phase,
            Opened = mark.Opened,
            Clicked = mark.Clicked,
            Handed = (Flags[index] & HandedBit) != 0,
            RetryRelayed = (Flags[index] & RetryRelayedBit) != 0,
            Attempts = Attempts[index],
            FailureType = failure == 0 ? null : (FailureType)((failure >> 4) - 1),
            FailureReason = failure == 0 ? null : (FailureReason)(failure & 0x0F),
            RelayedAt = Time(RelayedAt[index]),
            LastEventAt = Time(LastEventAt[index]),
            RetryDueAt = Time(RetryDueAt[index]),
        };
    }

    public void Put(int index, in LogSlot slot)
    {
        Marks[index] = slot.Mark.Value;
        Flags[index] = (byte)((slot.Handed ? HandedBit : 0) | (slot.RetryRelayed ? RetryRelayedBit : 0));
        Attempts[index] = (byte)slot.Attempts;
        Failures[index] = slot.FailureType is { } type
            ? (byte)((((int)type + 1) << 4) | (int)(slot.FailureReason ?? FailureReason.NotDefined))
            : (byte)0;
        RelayedAt[index] = Ticks(slot.RelayedAt);
        LastEventAt[index] = Ticks(slot.LastEventAt);
        RetryDueAt[index] = Ticks(slot.RetryDueAt);
    }

    public bool IsHanded(int index) => (Flags[index] & HandedBit) != 0;

    /// <summary>Records <paramref name="eventId"/> for the log at <paramref name="index"/>; false when it was seen before.</summary>
    public bool TryAddSeen(int index, string eventId)
    {
        if (SeenEvents.SimulatedBit(eventId) is { } bit)
        {
            var before = SeenSimulated[index];
            SeenSimulated[index] = before | bit;
            return (before & bit) == 0;
        }

        if (!SeenOther.TryGetValue(index, out var seen))
        {
            SeenOther[index] = [eventId];
            return true;
        }

        if (Array.IndexOf(seen, eventId) >= 0)
        {
            return false;
        }

        SeenOther[index] = [.. seen, eventId];
        return true;
    }

    private static DateTimeOffset? Time(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    private static long Ticks(DateTimeOffset? at) => at is { } t ? t.UtcTicks : 0;
}

/// <summary>R13.3: one link's clicks in a partition, and which of its recipients clicked it.</summary>
[GenerateSerializer, Alias("LinkTally")]
public sealed class LinkTally
{
    [Id(0)] public string Url { get; set; } = "";

    [Id(1)] public long Clicks { get; set; }

    [Id(2)] public HashSet<int> Clickers { get; set; } = [];
}

/// <summary>
/// The simulated MTA's event ids ("sim:{attempt}:{type}") for the first attempts, one bit each, so a
/// million simulated logs keep their seen ids in four bytes apiece; any other id is kept as it came.
/// </summary>
public static class SeenEvents
{
    private const int Attempts = 5;

    private static readonly Dictionary<string, uint> Bits = Enumerable.Range(1, Attempts)
        .SelectMany(attempt => Enum.GetValues<Feedback.FeedbackType>().Select(type => (attempt, type)))
        .Select((x, n) => (Id: $"sim:{x.attempt}:{x.type}", Bit: 1u << n))
        .ToDictionary(x => x.Id, x => x.Bit, StringComparer.Ordinal);

    public static uint? SimulatedBit(string eventId) => Bits.TryGetValue(eventId, out var bit) ? bit : null;
}
