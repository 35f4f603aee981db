namespace DeliveryGrains.Measuring;

/// <summary>
/// The activation floor (docs/performance.md): what Orleans alone costs to activate, call once and
/// deactivate N trivial grains on this cluster, the yardstick a load run's settle time is held
/// against. Measured inside the silo, as an in-process client would, so the gateway's cost is not
/// counted.
/// </summary>
[Alias("IActivationFloorGrain")]
public interface IActivationFloorGrain : IGrainWithGuidKey
{
    /// <summary>
    /// Activates, calls once and deactivates <paramref name="grains"/> fresh probe grains with
    /// <see cref="ActivationFloor.CallsInFlight"/> calls in flight; answers how long that took.
    /// </summary>
    [Alias("Measure"), ResponseTimeout("01:00:00")]
    Task<ActivationFloor> MeasureAsync(int grains);
}

/// <summary>One measurement of the activation floor.</summary>
/// <param name="Grains">Probe grains activated, called once and deactivated.</param>
/// <param name="Elapsed">From the first call to the last answer.</param>
[GenerateSerializer, Immutable, Alias("ActivationFloor")]
public sealed record ActivationFloor([property: Id(0)] int Grains, [property: Id(1)] TimeSpan Elapsed)
{
    /// <summary>As in DESIGN's measurement of the floor.</summary>
    public const int CallsInFlight = 1_024;

    /// <summary>The most probe grains one measurement activates.</summary>
    public const int MaxGrains = 20_000_000;

    public double PerSecond => Elapsed > TimeSpan.Zero ? Grains / Elapsed.TotalSeconds : 0;

    /// <summary>The floor for <paramref name="recipients"/> activations, scaled linearly from this measurement.</summary>
    public TimeSpan ScaledTo(long recipients) => Grains == 0 ? TimeSpan.Zero : Elapsed * ((double)recipients / Grains);
}

/// <summary>A trivial grain: activated by its one call, deactivated as soon as it is idle.</summary>
[Alias("IActivationProbeGrain")]
public interface IActivationProbeGrain : IGrainWithIntegerKey
{
    [Alias("Touch")]
    Task TouchAsync();
}
