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

    /// <summary>For a run of a recurring delivery: its template and place.</summary>
    [Id(16)] public string? TemplateId { get; set; }
    [Id(17)] public int RunIndex { get; set; }

    /// <summary>For a recurring delivery (a template): its runs so far and who confirmed it.</summary>
    [Id(18)] public List<RunEntry> Runs { get; set; } = [];
    [Id(19)] public DateTimeOffset? FirstRunAt { get; set; }
    [Id(20)] public string? ConfirmedBy { get; set; }

    /// <summary>Stopped while running, and not every partition has taken the stop yet (a silo was dying).</summary>
    [Id(21)] public bool StopUntold { get; set; }

    // Ids 22 to 29 are left to the tracking work, which adds state beside this one.

    /// <summary>R14.4: the latest proofs sent, newest last, and how many were ever sent (the N of "[Proof N]").</summary>
    [Id(30)] public List<Content.ProofEntry> Proofs { get; set; } = [];
    [Id(31)] public int ProofCount { get; set; }
}

[GenerateSerializer, Alias("RunEntry")]
public sealed class RunEntry
{
    [Id(0)] public string DeliveryId { get; set; } = "";
    [Id(1)] public DateTimeOffset ScheduledAt { get; set; }
    [Id(2)] public RunReport? Latest { get; set; }
}
