using System.Collections.Concurrent;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Tracking;

/// <summary>
/// R13.1: where a click URL naming a link by index alone goes. Each delivery's link table
/// (<see cref="IDeliveryGrain.GetLinkTableAsync"/>) is asked once per silo and kept in memory, so a
/// click costs no grain call and no database read after the first of its delivery. A table is fixed
/// once the content is, so a kept one is never stale; only a failed ask is forgotten, to be asked again.
/// </summary>
public sealed class DeliveryLinkTable(IGrainFactory grains)
{
    /// <summary>Deliveries whose tables are kept: far more than are clicked at once; past it the least recently used half goes.</summary>
    internal const int Capacity = 4096;

    private readonly ConcurrentDictionary<string, Entry> _tables = new(StringComparer.Ordinal);

    /// <summary>The original URL of link <paramref name="link"/> of <paramref name="deliveryId"/>, or null when the table has no such link.</summary>
    public async ValueTask<string?> UrlAsync(string deliveryId, int link)
    {
        var entry = _tables.GetOrAdd(deliveryId, static (id, self) => self.Add(id), this);
        entry.LastUsed = Environment.TickCount64;
        IReadOnlyList<string> table;
        try
        {
            table = await entry.Table.Value;
        }
        catch (Exception)
        {
            // Not kept: the next click of this delivery asks again.
            _tables.TryRemove(new KeyValuePair<string, Entry>(deliveryId, entry));
            throw;
        }

        return (uint)link < (uint)table.Count ? table[link] : null;
    }

    /// <summary>A new entry; its grain call is made on first read of the entry that won the race, so two clicks arriving together ask once.</summary>
    private Entry Add(string deliveryId)
    {
        if (_tables.Count >= Capacity)
        {
            Trim();
        }

        return new Entry(new Lazy<Task<IReadOnlyList<string>>>(() => grains.GetGrain<IDeliveryGrain>(deliveryId).GetLinkTableAsync()));
    }

    private void Trim()
    {
        var cutoff = _tables.Select(t => t.Value.LastUsed).Order().ElementAtOrDefault(_tables.Count / 2);
        foreach (var (id, entry) in _tables)
        {
            if (entry.LastUsed <= cutoff)
            {
                _tables.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }
        }
    }

    private sealed class Entry(Lazy<Task<IReadOnlyList<string>>> table)
    {
        public Lazy<Task<IReadOnlyList<string>>> Table { get; } = table;

        public long LastUsed { get; set; } = Environment.TickCount64;
    }
}
