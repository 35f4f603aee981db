using System.Text.Json;
using System.Text.Json.Serialization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Load;

/// <summary>
/// What a load run measured; written as JSON by <c>load --report FILE</c>. With several deliveries
/// (<c>--deliveries N</c>) the top-level figures are the totals of the run (counts summed, times from
/// the first confirmation to the last delivery relayed or settled) and <see cref="Runs"/> holds each
/// delivery's own; with one delivery both say the same.
/// </summary>
public sealed record LoadReport(
    string DeliveryId,
    DateTimeOffset StartedAt,
    int Recipients,
    long ToDeliver,
    int Excluded,
    Channel Channel,
    bool EmailFeedbackService,
    int Seed,
    TimeSpan ValidityPeriod,
    TimeSpan RetryPeriod,
    int MaxRetries,
    MtaSettings Mta,
    double PrepareSeconds,
    double? RelaySeconds,
    double SettleSeconds,
    double? RelayMessagesPerSecond,
    double RecipientsPerSecond,
    DeliveryStatus FinalStatus,
    bool Settled,
    Kpis RunningKpis,
    Kpis RecountedKpis,
    bool StatsMatch,
    IReadOnlyList<string> StatsDifferences,
    long PeakMemoryBytes,
    string PeakMemoryFigure,
    long MaximumAvailableMemoryBytes,
    int PeakActivations,
    int MemorySamples,
    string? MemorySamplingError,
    int ProcessorCount,
    int Deliveries,
    int RecipientsPerDelivery,
    IReadOnlyList<LoadRunReport> Runs,
    ViewLatencyFigures ViewReads,
    SiloMetricsFigures SiloMetrics,
    long? PeakResidentBytes,
    string? StorageMode,
    string StorageModeSource)
{
    /// <summary>The activation floor measured before the run (<c>load --floor N</c>); null without it.</summary>
    public FloorFigures? Floor { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LoadReport? FromJson(string json) => JsonSerializer.Deserialize<LoadReport>(json, Json);
}

/// <summary>
/// The activation floor of the run's cluster and the settle time held against it (docs/performance.md):
/// <see cref="SettleOverFloor"/> is the settle time divided by the floor scaled to the run's messages.
/// </summary>
/// <param name="Grains">Trivial grains activated, called once and deactivated.</param>
/// <param name="Seconds">How long that took.</param>
/// <param name="PerSecond">Activations a second.</param>
/// <param name="ScaledSeconds">The floor for as many activations as the run had messages to deliver.</param>
/// <param name="SettleOverFloor">Settle time / <paramref name="ScaledSeconds"/>.</param>
/// <param name="Kind">Which floor: measured in the run's silo (<c>--floor</c>) or the stock one (<c>--stock-floor</c>).</param>
public sealed record FloorFigures(int Grains, double Seconds, double PerSecond, double ScaledSeconds, double? SettleOverFloor, FloorKind Kind = FloorKind.RunSilo)
{
    /// <summary>The hot path's goal: settle in at most half the floor (issue "below the activation floor").</summary>
    public const double Goal = 0.5;
}

/// <summary>Where an activation floor was measured.</summary>
public enum FloorKind
{
    /// <summary>In the run's own silo, the engine and the dashboard running beside the probe grains (<c>load --floor</c>).</summary>
    RunSilo,

    /// <summary>In a bare silo of its own process, DESIGN's method (<c>DeliveryGrains.Silo floor</c>, given as <c>load --stock-floor</c>).</summary>
    Stock,
}

/// <summary>One delivery of a load run; times from its own confirmation.</summary>
public sealed record LoadRunReport(
    string DeliveryId,
    int Seed,
    int MtaSeed,
    long ToDeliver,
    int Excluded,
    double PrepareSeconds,
    double? RelaySeconds,
    double SettleSeconds,
    double? RelayMessagesPerSecond,
    double RecipientsPerSecond,
    DeliveryStatus FinalStatus,
    bool Settled,
    Kpis RunningKpis,
    Kpis RecountedKpis,
    bool StatsMatch,
    IReadOnlyList<string> StatsDifferences);

/// <summary>Deployment blocks of several deliveries added up (counts summed, rates recomputed as in R8).</summary>
public static class KpiTotals
{
    public static Kpis Sum(IReadOnlyCollection<Kpis> parts)
    {
        if (parts.Count == 1)
        {
            return parts.First();
        }

        long toDeliver = 0, sent = 0, delivered = 0, failed = 0, opens = 0, clicks = 0, pending = 0, retry = 0;
        var computedAt = DateTimeOffset.MinValue;
        foreach (var k in parts)
        {
            toDeliver += k.ToDeliver;
            sent += k.Sent;
            delivered += k.Delivered;
            failed += k.BouncesAndErrors;
            opens += k.Opens;
            clicks += k.Clicks;
            pending += k.Pending;
            retry += k.AwaitingRetry;
            computedAt = k.ComputedAt > computedAt ? k.ComputedAt : computedAt;
        }

        return Kpis.Of(toDeliver, sent, delivered, failed, opens, clicks, pending, retry, computedAt);
    }
}
