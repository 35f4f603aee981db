using System.Globalization;
using DeliveryGrains.Addresses;

namespace DeliveryGrains.Silo.Api;

/// <summary>
/// The excluded addresses (R9: Quarantine and OnDenylist) across the address book's shards: each
/// shard answers its page and count, merged here in address order. Paged by address, forward
/// (<c>after</c>) or back (<c>before</c>), so a page never depends on how many came before it.
/// </summary>
public static class AddressList
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    public const int MaxSearchLength = 320;

    /// <summary>The most addresses one bulk release takes.</summary>
    public const int MaxRelease = 1000;

    /// <summary>The list's query values, each checked; <paramref name="errors"/> names every bad one.</summary>
    public static AddressSearch Parse(string? status, string? q, string? after, string? before, string? limit, out Dictionary<string, string[]> errors)
    {
        errors = [];
        AddressStatus? wanted = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!status.Any(char.IsAsciiDigit) && Enum.TryParse<AddressStatus>(status, ignoreCase: true, out var parsed) && parsed is AddressStatus.Quarantine or AddressStatus.OnDenylist)
            {
                wanted = parsed;
            }
            else
            {
                errors["status"] = [$"'{status}' is not a status this list holds; use Quarantine or OnDenylist, or leave 'status' out for both."];
            }
        }

        if (q is { Length: > MaxSearchLength })
        {
            errors["q"] = [$"Search with at most {MaxSearchLength} characters of an address."];
        }

        if (!string.IsNullOrEmpty(after) && !string.IsNullOrEmpty(before))
        {
            errors["before"] = ["Page forward with 'after' or back with 'before', not both."];
        }

        var size = DefaultLimit;
        if (!string.IsNullOrEmpty(limit))
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit)
            {
                errors["limit"] = [$"'{limit}' is not a page size; ask for 1 to {MaxLimit} addresses, e.g. limit={DefaultLimit}."];
            }
        }

        return new AddressSearch(wanted, string.IsNullOrWhiteSpace(q) ? null : q.Trim(), NullIfEmpty(after), NullIfEmpty(before), size);
    }

    public static async Task<AddressListPage> SearchAsync(IGrainFactory grains, AddressSearch search)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, AddressBook.ShardCount)
            .Select(s => grains.GetGrain<IAddressBookGrain>(s).SearchExcludedAsync(search)));
        var window = shards.SelectMany(s => s.Items).OrderBy(r => r.Address, StringComparer.Ordinal).ToList();
        var total = shards.Sum(s => s.Total);
        var back = search.Before is not null && search.After is null;
        var more = window.Count > search.Limit;
        var items = back ? window[Math.Max(0, window.Count - search.Limit)..] : window[..Math.Min(search.Limit, window.Count)];
        if (items.Count == 0)
        {
            return new AddressListPage(items, total, null, null);
        }

        // Going forward there is a page before when this one started after something, and one after when
        // more matched than fit; going back it is the other way round.
        var next = back || more ? items[^1].Address : null;
        var previous = back ? (more ? items[0].Address : null) : (search.After is null ? null : items[0].Address);
        return new AddressListPage(items, total, next, previous);
    }

    /// <summary>The addresses of a bulk release, normalized as the book keys them; <paramref name="errors"/> names each bad one by its index.</summary>
    public static List<string> ParseRelease(IReadOnlyList<string?>? addresses, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (addresses is null || addresses.Count == 0)
        {
            errors["addresses"] = ["List the addresses to release, e.g. { \"addresses\": [\"ann@example.com\"] }."];
            return [];
        }

        if (addresses.Count > MaxRelease)
        {
            errors["addresses"] = [$"{addresses.Count:N0} addresses is too many for one request: release at most {MaxRelease:N0} at a time."];
            return [];
        }

        var normalized = new List<string>(addresses.Count);
        for (var i = 0; i < addresses.Count; i++)
        {
            var text = addresses[i]?.Trim() ?? "";
            var channel = AddressSyntax.ChannelOf(text);
            var address = AddressSyntax.Normalize(text, channel);
            if (text.Length is 0 or > MaxSearchLength || !AddressSyntax.IsValid(address, channel))
            {
                errors[$"addresses[{i}]"] = [$"'{text}' is not an email address or a phone number in E.164 form."];
                continue;
            }

            normalized.Add(address);
        }

        return normalized;
    }

    /// <summary>Releases the addresses (R9.6), one call per shard that holds any; answers how many records were released.</summary>
    public static async Task<int> ReleaseAsync(IGrainFactory grains, IReadOnlyList<string> normalized)
    {
        var released = await Task.WhenAll(normalized
            .GroupBy(AddressBook.ShardOf)
            .Select(g => grains.GetGrain<IAddressBookGrain>(g.Key).ReleaseManyAsync([.. g.Distinct(StringComparer.Ordinal)])));
        return released.Sum();
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}

/// <summary>A page of excluded addresses; <see cref="Next"/> and <see cref="Previous"/> are the cursors to pass as <c>after</c> and <c>before</c>.</summary>
public sealed record AddressListPage(IReadOnlyList<AddressRecord> Items, int Total, string? Next, string? Previous);

public sealed record ReleaseRequest(IReadOnlyList<string?>? Addresses);

public sealed record ReleaseResponse(int Released);
