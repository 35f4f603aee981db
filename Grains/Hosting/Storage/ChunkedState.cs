using System.Buffers;

namespace DeliveryGrains.Hosting.Storage;

/// <summary>
/// A state that <see cref="PostgresGrainStorage"/> stores as a small head (Orleans' serialization) and
/// fixed chunks (the state's own bytes), so a write carries only the chunks that changed since the
/// last read or write of this instance, not the whole value. Memory mode ignores it.
/// </summary>
public interface IChunkedState
{
    /// <summary>What this instance last read or wrote, chunk by chunk; never serialized.</summary>
    ChunkBaseline Baseline { get; }

    /// <summary>How many chunks the state takes now.</summary>
    int ChunkCount { get; }

    /// <summary>The part that is not chunked, serialized as it is; it must not share mutable columns with the chunks.</summary>
    object CaptureHead();

    /// <summary>Writes chunk <paramref name="chunk"/>'s bytes; the same content must give the same bytes.</summary>
    void EncodeChunk(int chunk, IBufferWriter<byte> output);

    /// <summary>Takes back a head (sizing the chunked columns) before its chunks are decoded.</summary>
    void RestoreHead(object head);

    void DecodeChunk(int chunk, ReadOnlySpan<byte> bytes);
}

/// <summary>The bytes of each chunk as the store holds them, as far as this instance knows; null where it does not know.</summary>
public sealed class ChunkBaseline
{
    private byte[]?[] _stored = [];

    /// <summary>Forgets everything: the next write stores every chunk (after a failure, whose outcome is unknown).</summary>
    public void Forget() => _stored = [];

    /// <summary>Records that the store holds <paramref name="bytes"/> as chunk <paramref name="chunk"/>.</summary>
    public void Remember(int chunk, byte[] bytes)
    {
        if (chunk >= _stored.Length)
        {
            Array.Resize(ref _stored, Math.Max(chunk + 1, _stored.Length * 2));
        }

        _stored[chunk] = bytes;
    }

    public bool Holds(int chunk, ReadOnlySpan<byte> bytes) =>
        chunk < _stored.Length && _stored[chunk] is { } stored && bytes.SequenceEqual(stored);
}

/// <summary>The head and the changed chunks of one write of an <see cref="IChunkedState"/>.</summary>
public sealed record ChunkedWrite(object Head, int ChunkCount, IReadOnlyList<(int Chunk, byte[] Bytes)> Changed)
{
    /// <summary>Encodes every chunk and keeps the ones whose bytes differ from <see cref="IChunkedState.Baseline"/>.</summary>
    public static ChunkedWrite Capture(IChunkedState state)
    {
        var count = state.ChunkCount;
        var changed = new List<(int, byte[])>();
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        for (var chunk = 0; chunk < count; chunk++)
        {
            buffer.ResetWrittenCount();
            state.EncodeChunk(chunk, buffer);
            if (!state.Baseline.Holds(chunk, buffer.WrittenSpan))
            {
                changed.Add((chunk, buffer.WrittenSpan.ToArray()));
            }
        }

        return new ChunkedWrite(state.CaptureHead(), count, changed);
    }

    /// <summary>The write is stored: the baseline now holds its chunks.</summary>
    public void Stored(IChunkedState state)
    {
        foreach (var (chunk, bytes) in Changed)
        {
            state.Baseline.Remember(chunk, bytes);
        }
    }

    /// <summary>Rebuilds a state from its head and every chunk, remembering them as stored.</summary>
    public static void Assemble(IChunkedState state, object head, IReadOnlyList<byte[]> chunks)
    {
        state.Baseline.Forget();
        state.RestoreHead(head);
        if (chunks.Count != state.ChunkCount)
        {
            throw new InvalidOperationException($"The stored state has {chunks.Count} chunks where its head needs {state.ChunkCount}.");
        }

        for (var chunk = 0; chunk < chunks.Count; chunk++)
        {
            state.DecodeChunk(chunk, chunks[chunk]);
            state.Baseline.Remember(chunk, chunks[chunk]);
        }
    }
}
