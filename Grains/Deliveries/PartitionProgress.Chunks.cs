using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using DeliveryGrains.Hosting.Storage;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// Durable mode's layout: the per-recipient columns in chunks of <see cref="ChunkSize"/> recipients,
/// everything else in a <see cref="PartitionHead"/>. Feedback arrives in the order messages were
/// relayed, so a call touches one or two chunks of a slice, and its write carries those, not the
/// whole slice.
/// </summary>
public sealed partial class PartitionProgress : IChunkedState
{
    /// <summary>
    /// Recipients per chunk: a simulator batch (256 logs due together, relayed in index order) then
    /// falls in one or two chunks; a chunk is about 8.5 KB, small enough that PostgreSQL's compression
    /// keeps a mostly-empty one inline.
    /// </summary>
    public const int ChunkSize = 256;

    private const byte ChunkFormat = 1;

    [NonSerialized]
    private ChunkBaseline? _baseline;

    ChunkBaseline IChunkedState.Baseline => _baseline ??= new ChunkBaseline();

    int IChunkedState.ChunkCount => (Count + ChunkSize - 1) / ChunkSize;

    object IChunkedState.CaptureHead() => new PartitionHead
    {
        Count = Count,
        RelayCursor = RelayCursor,
        Version = Version,
        RelayState = RelayState,
        Run = Run,
        Holders = Holders,
        PendingAddressEvents = PendingAddressEvents,
        Unsubscribed = Unsubscribed,
        Complained = Complained,
        Links = Links,
        RecentHits = RecentHits,
    };

    void IChunkedState.RestoreHead(object head)
    {
        if (head is not PartitionHead h)
        {
            throw new InvalidOperationException($"A partition's stored head is a {head.GetType().Name}.");
        }

        Reset(h.Count);
        RelayCursor = h.RelayCursor;
        Version = h.Version;
        RelayState = h.RelayState;
        Run = h.Run;
        Holders = h.Holders;
        PendingAddressEvents = h.PendingAddressEvents;
        Unsubscribed = h.Unsubscribed;
        Complained = h.Complained;
        Links = h.Links;
        RecentHits = h.RecentHits;
    }

    void IChunkedState.EncodeChunk(int chunk, IBufferWriter<byte> output)
    {
        var (start, n) = Range(chunk);
        Write(output, [ChunkFormat]);
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(number, n);
        Write(output, number);
        Write(output, Marks.AsSpan(start, n));
        Write(output, Attempts.AsSpan(start, n));
        Write(output, Failures.AsSpan(start, n));
        Write(output, Flags.AsSpan(start, n));
        Write(output, HolderOf.AsSpan(start, n));
        Write(output, MemoryMarshal.AsBytes(SeenSimulated.AsSpan(start, n)));
        Write(output, MemoryMarshal.AsBytes(RelayedAt.AsSpan(start, n)));
        Write(output, MemoryMarshal.AsBytes(LastEventAt.AsSpan(start, n)));
        Write(output, MemoryMarshal.AsBytes(RetryDueAt.AsSpan(start, n)));

        // Few recipients have other event ids; sorted so equal content gives equal bytes.
        var others = SeenOther.Count == 0 ? [] : SeenOther.Where(e => e.Key >= start && e.Key < start + n).OrderBy(e => e.Key).ToList();
        BinaryPrimitives.WriteInt32LittleEndian(number, others.Count);
        Write(output, number);
        foreach (var (index, ids) in others)
        {
            BinaryPrimitives.WriteInt32LittleEndian(number, index);
            Write(output, number);
            BinaryPrimitives.WriteInt32LittleEndian(number, ids.Length);
            Write(output, number);
            foreach (var id in ids)
            {
                var bytes = Encoding.UTF8.GetBytes(id);
                BinaryPrimitives.WriteInt32LittleEndian(number, bytes.Length);
                Write(output, number);
                Write(output, bytes);
            }
        }
    }

    void IChunkedState.DecodeChunk(int chunk, ReadOnlySpan<byte> bytes)
    {
        var (start, n) = Range(chunk);
        var reader = new ChunkReader(bytes);
        if (reader.Byte() != ChunkFormat || reader.Int() != n)
        {
            throw new InvalidOperationException($"Chunk {chunk} of a partition is not in format {ChunkFormat} for {n} recipients.");
        }

        reader.Copy(Marks.AsSpan(start, n));
        reader.Copy(Attempts.AsSpan(start, n));
        reader.Copy(Failures.AsSpan(start, n));
        reader.Copy(Flags.AsSpan(start, n));
        reader.Copy(HolderOf.AsSpan(start, n));
        reader.Copy(MemoryMarshal.AsBytes(SeenSimulated.AsSpan(start, n)));
        reader.Copy(MemoryMarshal.AsBytes(RelayedAt.AsSpan(start, n)));
        reader.Copy(MemoryMarshal.AsBytes(LastEventAt.AsSpan(start, n)));
        reader.Copy(MemoryMarshal.AsBytes(RetryDueAt.AsSpan(start, n)));
        for (var others = reader.Int(); others > 0; others--)
        {
            var index = reader.Int();
            var ids = new string[reader.Int()];
            for (var k = 0; k < ids.Length; k++)
            {
                ids[k] = reader.Utf8(reader.Int());
            }

            SeenOther[index] = ids;
        }

        if (!reader.AtEnd)
        {
            throw new InvalidOperationException($"Chunk {chunk} of a partition has bytes past its end.");
        }
    }

    private (int Start, int Count) Range(int chunk)
    {
        var start = chunk * ChunkSize;
        return (start, Math.Min(ChunkSize, Count - start));
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private ref struct ChunkReader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public readonly bool AtEnd => _rest.IsEmpty;

        public byte Byte() => Take(1)[0];

        public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public string Utf8(int length) => Encoding.UTF8.GetString(Take(length));

        public void Copy(Span<byte> into) => Take(into.Length).CopyTo(into);

        private ReadOnlySpan<byte> Take(int length)
        {
            if (length < 0 || length > _rest.Length)
            {
                throw new InvalidOperationException("A partition chunk ends early.");
            }

            var taken = _rest[..length];
            _rest = _rest[length..];
            return taken;
        }
    }
}

/// <summary>A partition's progress without its per-recipient columns: durable mode's small row.</summary>
[GenerateSerializer, Alias("PartitionHead")]
public sealed class PartitionHead
{
    [Id(0)] public int Count { get; set; }

    [Id(1)] public int RelayCursor { get; set; }

    [Id(2)] public long Version { get; set; }

    [Id(3)] public RelayState RelayState { get; set; }

    [Id(4)] public DeliveryRun? Run { get; set; }

    [Id(5)] public List<string> Holders { get; set; } = [];

    [Id(6)] public List<Addresses.AddressEvent> PendingAddressEvents { get; set; } = [];

    [Id(7)] public HashSet<int> Unsubscribed { get; set; } = [];

    [Id(8)] public HashSet<int> Complained { get; set; } = [];

    [Id(9)] public Dictionary<int, LinkTally> Links { get; set; } = [];

    [Id(10)] public List<Guid> RecentHits { get; set; } = [];
}
