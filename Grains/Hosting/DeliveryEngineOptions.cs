using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Hosting;

/// <summary>How the engine fans out and rolls up (configuration section <c>DeliveryGrains</c>).</summary>
public sealed class DeliveryEngineOptions
{
    public const string Section = "DeliveryGrains";

    /// <summary>Recipients per partition aggregator.</summary>
    [Range(16, 1_000_000)]
    public int PartitionSize { get; set; } = 4096;

    /// <summary>Partitions relaying at once for one delivery.</summary>
    [Range(1, 1024)]
    public int PartitionsInFlight { get; set; } = 4;

    /// <summary>Calls a partition has in flight to its logs' grains (their retry reminders).</summary>
    [Range(1, 10_000)]
    public int RelayConcurrency { get; set; } = 128;

    /// <summary>Messages a partition relays per call before the delivery looks again (a pause point).</summary>
    [Range(1, 1_000_000)]
    public int RelayChunk { get; set; } = 1024;

    /// <summary>How often partitions flush their counts upward (R8.5: at most 2 s behind).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:02")]
    public TimeSpan FlushPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How often a running delivery on the SMTP road (or a scenario) asks its partitions with messages not
    /// answered yet to resume those a dead silo's relay queue held (R12.1).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HandedWatchPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>R8.5: how often open and click figures are published.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "30.00:00:00")]
    public TimeSpan TrackingRefreshPeriod { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>R9 silo settings (configuration section <c>Quarantine</c>).</summary>
public sealed class QuarantineOptions
{
    public const string Section = "Quarantine";

    [Range(1, 1000)]
    public int MaxErrors { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan SignificantErrorInterval { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>The MTA a delivery uses when it names none (configuration section <c>Mta</c>).</summary>
public sealed class MtaOptions
{
    public const string Section = "Mta";

    public Deliveries.MtaKind Kind { get; set; } = Deliveries.MtaKind.Simulated;

    /// <summary>Feedback batches (one partition's logs each) the simulator has in flight at once.</summary>
    [Range(1, 10_000)]
    public int SimulatorConcurrency { get; set; } = 8;

    /// <summary>Logs of one partition whose feedback the simulator hands over in one call.</summary>
    [Range(1, 100_000)]
    public int SimulatorBatchSize { get; set; } = 256;

    /// <summary>
    /// Outcomes the simulator holds at most; a relay waits for room past it, as a real MTA's queue
    /// would defer.
    /// </summary>
    [Range(100, 100_000_000)]
    public int SimulatorMaxQueued { get; set; } = 1_000_000;
}
