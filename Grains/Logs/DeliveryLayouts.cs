using System.Collections.Concurrent;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Logs;

/// <summary>
/// How many partitions each delivery has, asked of the delivery once per silo: a log's grain finds
/// its partition from its profile id and that count, which never changes once the delivery is prepared.
/// </summary>
public sealed class DeliveryLayouts(IGrainFactory grains)
{
    /// <summary>Deliveries remembered; past this the memory starts over, so it stays bounded on a long-lived silo.</summary>
    private const int Remembered = 100_000;

    private readonly ConcurrentDictionary<string, int> _partitionCounts = new(StringComparer.Ordinal);

    /// <summary>The delivery's partition count, 0 while it has none (not prepared yet, or no such delivery).</summary>
    public async ValueTask<int> PartitionCountAsync(string deliveryId)
    {
        if (_partitionCounts.TryGetValue(deliveryId, out var known))
        {
            return known;
        }

        var count = await grains.GetGrain<IDeliveryGrain>(deliveryId).GetPartitionCountAsync();
        if (count > 0)
        {
            if (_partitionCounts.Count >= Remembered)
            {
                _partitionCounts.Clear();
            }

            _partitionCounts[deliveryId] = count;
        }

        return count;
    }
}
