namespace DeliveryGrains.Deliveries;

[GenerateSerializer, Alias("DeliveryState")]
public sealed class DeliveryState
{
    [Id(0)] public DeliveryDefinition? Definition { get; set; }
    [Id(1)] public string CreatedBy { get; set; } = "";
    [Id(2)] public DeliveryStatus Status { get; set; }
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public int PartitionCount { get; set; }
    [Id(5)] public Dictionary<ExclusionReason, int> Excluded { get; set; } = [];
    [Id(6)] public List<ExclusionEntry> Exclusions { get; set; } = [];
    [Id(7)] public DateTimeOffset? StartedAt { get; set; }
    [Id(8)] public DateTimeOffset? ValidUntil { get; set; }

    /// <summary>Each partition's latest counts; the KPIs are their sum.</summary>
    [Id(9)] public PartitionCounts[] Partitions { get; set; } = [];

    /// <summary>Partitions that have relayed every message.</summary>
    [Id(10)] public bool[] Relayed { get; set; } = [];

    /// <summary>Opens and clicks as last published (R8.5).</summary>
    [Id(11)] public long PublishedOpens { get; set; }
    [Id(12)] public long PublishedClicks { get; set; }
    [Id(13)] public DateTimeOffset? CountsAt { get; set; }
    [Id(14)] public List<string> Warnings { get; set; } = [];

    /// <summary>The end of the validity period has been processed (R7.3).</summary>
    [Id(15)] public bool Expired { get; set; }
}
