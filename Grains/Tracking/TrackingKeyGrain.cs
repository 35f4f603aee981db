using System.Security.Cryptography;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Tracking;

[GenerateSerializer, Alias("TrackingKeyState")]
public sealed class TrackingKeyState
{
    [Id(0)] public byte[]? Key { get; set; }
}

/// <summary>
/// The cluster's tracking key when none is configured: made from a cryptographic random source at
/// the first ask and written before it is answered, so two silos that ask at once, or one that asks
/// after a restart, get the same key. In memory mode it lives as long as the deliveries it signs for.
/// </summary>
[GrainType("tracking-key")]
public sealed class TrackingKeyGrain(
    [PersistentState("key", StorageNames.Deliveries)] IPersistentState<TrackingKeyState> state) : Grain, ITrackingKeyGrain
{
    public async Task<byte[]> GetKeyAsync()
    {
        if (state.State.Key is { Length: >= TrackingOptions.MinKeyBytes } key)
        {
            return key;
        }

        state.State.Key = RandomNumberGenerator.GetBytes(TrackingOptions.MinKeyBytes);
        await state.WriteStateAsync();
        return state.State.Key;
    }
}
