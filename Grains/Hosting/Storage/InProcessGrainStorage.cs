using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Serialization;
using Orleans.Storage;

namespace DeliveryGrains.Hosting.Storage;

/// <summary>
/// Memory mode's grain storage: state kept in this process as deep copies, with the same ETag
/// checks as a database provider. Orleans' own memory storage routes every read and write through a
/// storage grain and a JSON round trip, which costs more than the rest of a recipient's work; memory
/// mode is one silo by design (durable mode is for clusters), so a local table is enough.
/// </summary>
public sealed class InProcessGrainStorage(DeepCopier copier) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string StateName, GrainId GrainId), Entry> _entries = new();
    private long _lastETag;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_entries.TryGetValue((stateName, grainId), out var entry))
        {
            grainState.State = copier.Copy((T)entry.State);
            grainState.ETag = entry.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        var next = new Entry(copier.Copy(grainState.State)!, NewETag());
        var stored = _entries.AddOrUpdate(
            key,
            static (_, arg) => arg.Expected is null ? arg.Next : throw Inconsistent(null, arg.Expected),
            static (_, current, arg) => current.ETag == arg.Expected ? arg.Next : throw Inconsistent(current.ETag, arg.Expected),
            (Expected: grainState.ETag, Next: next));
        grainState.ETag = stored.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (_entries.TryGetValue(key, out var current))
        {
            if (current.ETag != grainState.ETag)
            {
                throw Inconsistent(current.ETag, grainState.ETag);
            }

            _entries.TryRemove(KeyValuePair.Create(key, current));
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
        return Task.CompletedTask;
    }

    private string NewETag() => Interlocked.Increment(ref _lastETag).ToString(CultureInfo.InvariantCulture);

    private static InconsistentStateException Inconsistent(string? stored, string? expected) =>
        new($"The stored version ({stored ?? "none"}) is not the one this activation read ({expected ?? "none"}).", stored, expected);

    private sealed record Entry(object State, string ETag);
}
