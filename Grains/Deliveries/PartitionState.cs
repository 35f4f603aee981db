namespace DeliveryGrains.Deliveries;

/// <summary>What a partition was prepared with; written once, at preparation.</summary>
[GenerateSerializer, Alias("PartitionState")]
public sealed class PartitionState
{
    /// <summary>The recipients this slice sends to, in target order; a recipient's index is its place here.</summary>
    [Id(0)] public List<Recipient> Recipients { get; set; } = [];

    [Id(4)] public bool Prepared { get; set; }
}

/// <summary>
/// How far a partition has got: a few bytes per recipient, written on every flush. Kept apart from
/// <see cref="PartitionState"/> so a flush stores the marks, not the recipient list again.
/// </summary>
[GenerateSerializer, Alias("PartitionProgress")]
public sealed class PartitionProgress
{
    /// <summary>One <see cref="Logs.LogMark"/> per recipient: the mirror the counts are made from.</summary>
    [Id(0)] public byte[] Marks { get; set; } = [];

    /// <summary>Recipients below this index have been relayed.</summary>
    [Id(1)] public int RelayCursor { get; set; }

    /// <summary>Grows with every flush, so the delivery keeps only a partition's latest counts.</summary>
    [Id(2)] public long Version { get; set; }

    /// <summary>Whether the delivery lets this slice relay (first attempts and retries).</summary>
    [Id(3)] public RelayState RelayState { get; set; }
}
