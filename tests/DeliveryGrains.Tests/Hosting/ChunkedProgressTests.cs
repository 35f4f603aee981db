using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Hosting.Storage;
using DeliveryGrains.Logs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace DeliveryGrains.Tests.Hosting;

/// <summary>
/// Durable mode's layout of a partition's progress (PartitionProgress.Chunks.cs): a head through
/// Orleans' serializer and fixed chunks of recipients, a write carrying only the chunks whose bytes
/// differ from what the store holds. The storage's SQL is covered by the Durable suite.
/// </summary>
public sealed class ChunkedProgressTests : IDisposable
{
    private const int Recipients = 3 * PartitionProgress.ChunkSize - 5;

    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    public void Dispose() => _services.Dispose();

    [Fact]
    [Trait("Rule", "R4")]
    public void Every_column_and_the_head_read_back_equal_from_the_head_and_chunks()
    {
        var written = Filled();

        var read = RoundTrip(written, out var write);

        Assert.Equal(3, write.ChunkCount);
        Assert.Equal([0, 1, 2], write.Changed.Select(c => c.Chunk));
        AssertSame(written, read);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_write_carries_only_the_chunks_changed_since_the_last_stored_write()
    {
        var state = Filled();
        var first = ChunkedWrite.Capture(state);
        first.Stored(state);

        Assert.Empty(ChunkedWrite.Capture(state).Changed);

        var slot = state.Slot(PartitionProgress.ChunkSize + 7);
        slot.Phase = LogPhase.Delivered;
        slot.LastEventAt = DateTimeOffset.UnixEpoch.AddDays(3);
        state.Put(PartitionProgress.ChunkSize + 7, slot);
        state.RelayCursor++;
        Assert.True(state.TryAddSeen(2 * PartitionProgress.ChunkSize, "mta-event-9"));
        var second = ChunkedWrite.Capture(state);

        Assert.Equal([1, 2], second.Changed.Select(c => c.Chunk));
        Assert.Equal(state.RelayCursor, ((PartitionHead)second.Head).RelayCursor);

        // Not stored (the write failed or lost its ETag race): the next write carries the change again.
        Assert.Equal([1, 2], ChunkedWrite.Capture(state).Changed.Select(c => c.Chunk));
        second.Stored(state);
        Assert.Empty(ChunkedWrite.Capture(state).Changed);

        ((IChunkedState)state).Baseline.Forget();
        Assert.Equal([0, 1, 2], ChunkedWrite.Capture(state).Changed.Select(c => c.Chunk));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_state_read_from_chunks_writes_nothing_until_it_changes()
    {
        var read = RoundTrip(Filled(), out _);

        Assert.Empty(ChunkedWrite.Capture(read).Changed);
        read.Attempts[Recipients - 1]++;
        Assert.Equal([2], ChunkedWrite.Capture(read).Changed.Select(c => c.Chunk));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_whole_value_of_the_old_format_reads_as_before_and_its_first_write_stores_every_chunk()
    {
        var written = Filled();
        var old = Serializer.Deserialize<PartitionProgress>(Serializer.SerializeToArray(written))!;

        AssertSame(written, old);
        Assert.Equal([0, 1, 2], ChunkedWrite.Capture(old).Changed.Select(c => c.Chunk));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_damaged_chunk_is_refused_rather_than_read_as_zeros()
    {
        var write = ChunkedWrite.Capture(Filled());
        var chunks = write.Changed.Select(c => c.Bytes).ToList();

        Assert.Throws<InvalidOperationException>(() => ChunkedWrite.Assemble(new PartitionProgress(), write.Head, chunks.Take(2).ToList()));
        chunks[1] = chunks[1][..^1];
        Assert.Throws<InvalidOperationException>(() => ChunkedWrite.Assemble(new PartitionProgress(), write.Head, chunks));
    }

    private PartitionProgress RoundTrip(PartitionProgress written, out ChunkedWrite write)
    {
        write = ChunkedWrite.Capture(written);
        var head = Serializer.Deserialize<object>(Serializer.SerializeToArray(write.Head))!;
        var read = new PartitionProgress();
        ChunkedWrite.Assemble(read, head, [.. write.Changed.Select(c => c.Bytes)]);
        return read;
    }

    /// <summary>A slice whose every column differs from one recipient to the next, with a few of every rarer field.</summary>
    private static PartitionProgress Filled()
    {
        var state = new PartitionProgress();
        state.Reset(Recipients);
        var at = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < Recipients; i++)
        {
            state.Put(i, new LogSlot
            {
                Phase = (LogPhase)(i % 5),
                Opened = i % 3 == 0,
                Clicked = i % 7 == 0,
                Handed = i % 2 == 0,
                RetryRelayed = i % 11 == 0,
                Attempts = i % 6,
                FailureType = i % 4 == 0 ? FailureType.Soft : null,
                FailureReason = i % 4 == 0 ? FailureReason.MailboxFull : null,
                RelayedAt = at.AddSeconds(i),
                LastEventAt = i % 9 == 0 ? null : at.AddSeconds(2 * i),
                RetryDueAt = i % 13 == 0 ? at.AddHours(1) : null,
            });
            state.HolderOf[i] = (byte)(i % 3);
            state.TryAddSeen(i, "sim:1:Delivered");
        }

        state.TryAddSeen(3, "external-a");
        state.TryAddSeen(3, "external-b");
        state.TryAddSeen(PartitionProgress.ChunkSize + 1, "external-ü");
        state.RelayCursor = Recipients - 10;
        state.Version = 1_000_000_003;
        state.RelayState = RelayState.Paused;
        state.Holders = ["10.0.0.1:11111@1", "10.0.0.2:11111@2"];
        state.Unsubscribed = [4, 400];
        state.Complained = [5];
        state.Links = new() { [0] = new LinkTally { Url = "https://example.test/a", Clicks = 3, Clickers = [7, 300] } };
        state.TryAddHit(Guid.NewGuid());
        return state;
    }

    private static void AssertSame(PartitionProgress expected, PartitionProgress actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected.Slot(i), actual.Slot(i));
            Assert.Equal((e.Mark, e.Handed, e.RetryRelayed, e.Attempts, e.FailureType, e.FailureReason, e.RelayedAt, e.LastEventAt, e.RetryDueAt),
                (a.Mark, a.Handed, a.RetryRelayed, a.Attempts, a.FailureType, a.FailureReason, a.RelayedAt, a.LastEventAt, a.RetryDueAt));
        }

        Assert.Equal(expected.HolderOf, actual.HolderOf);
        Assert.Equal(expected.SeenSimulated, actual.SeenSimulated);
        Assert.Equal(expected.SeenOther.OrderBy(e => e.Key), actual.SeenOther.OrderBy(e => e.Key));
        Assert.Equal(expected.RelayCursor, actual.RelayCursor);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.RelayState, actual.RelayState);
        Assert.Equal(expected.Holders, actual.Holders);
        Assert.Equal(expected.Unsubscribed, actual.Unsubscribed);
        Assert.Equal(expected.Complained, actual.Complained);
        Assert.Equal(expected.Links.Keys, actual.Links.Keys);
        Assert.Equal((expected.Links[0].Url, expected.Links[0].Clicks), (actual.Links[0].Url, actual.Links[0].Clicks));
        Assert.Equal(expected.Links[0].Clickers, actual.Links[0].Clickers);
        Assert.Equal(expected.RecentHits, actual.RecentHits);
        Assert.False(actual.TryAddHit(expected.RecentHits[0]));
    }
}
