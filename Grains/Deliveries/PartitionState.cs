using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Deliveries;

[GenerateSerializer, Alias("PartitionState")]
public sealed class PartitionState
{
    /// <summary>The recipients this slice sends to, in target order; a recipient's index is its place here.</summary>
    [Id(0)] public List<Recipient> Recipients { get; set; } = [];

    /// <summary>One <see cref="Logs.LogMark"/> per recipient: the mirror the counts are made from.</summary>
    [Id(1)] public byte[] Marks { get; set; } = [];

    /// <summary>Recipients below this index have been relayed.</summary>
    [Id(2)] public int RelayCursor { get; set; }

    /// <summary>Grows with every flush, so the delivery keeps only a partition's latest counts.</summary>
    [Id(3)] public long Version { get; set; }

    [Id(4)] public bool Prepared { get; set; }

    /// <summary>Whether the delivery lets this slice relay (first attempts and retries).</summary>
    [Id(5)] public RelayState RelayState { get; set; }
}
