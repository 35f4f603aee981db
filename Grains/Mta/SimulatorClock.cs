namespace DeliveryGrains.Mta;

/// <summary>
/// The clock of the simulated MTA: the silo's <see cref="TimeProvider"/> unless the host registers
/// another one before the engine (a test does, to move a scenario's minutes on command).
/// </summary>
public sealed class SimulatorClock(TimeProvider time)
{
    public TimeProvider Time { get; } = time;
}
