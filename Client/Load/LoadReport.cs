using System.Text.Json;
using System.Text.Json.Serialization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Load;

/// <summary>What a load run measured; written as JSON by <c>load --report FILE</c>.</summary>
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
    int ProcessorCount)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LoadReport? FromJson(string json) => JsonSerializer.Deserialize<LoadReport>(json, Json);
}
