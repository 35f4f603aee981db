using System.Diagnostics;

namespace DeliveryGrains.Measuring;

/// <summary>
/// Runs one floor measurement: fresh probe grains, a fixed number of calls in flight, made through
/// the silo's own cluster client on the thread pool (as DESIGN measured it), not from this grain's
/// single-threaded scheduler, which would become the bottleneck being measured.
/// </summary>
public sealed class ActivationFloorGrain(IClusterClient cluster) : Grain, IActivationFloorGrain
{
    public async Task<ActivationFloor> MeasureAsync(int grains)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(grains);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(grains, ActivationFloor.MaxGrains);

        var elapsed = await Task.Run(() => ActivateAsync(cluster, grains));
        DeactivateOnIdle();
        return new ActivationFloor(grains, elapsed);
    }

    private static async Task<TimeSpan> ActivateAsync(IGrainFactory factory, int grains)
    {
        // Keys no earlier measurement used, so every call activates a grain.
        var firstKey = Random.Shared.NextInt64(0, long.MaxValue - grains);
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(ActivationFloor.CallsInFlight, grains)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < grains)
            {
                await factory.GetGrain<IActivationProbeGrain>(firstKey + i).TouchAsync();
            }
        }));
        return clock.Elapsed;
    }
}

/// <summary>Does nothing but leave: the smallest grain Orleans can activate.</summary>
public sealed class ActivationProbeGrain : Grain, IActivationProbeGrain
{
    public Task TouchAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
