using System.Collections;
using System.Globalization;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// A generated slice's recipients, made from their target indices when read: recipient
/// <c>k</c> of the slice is target recipient <c>Members[k]</c>, with its address in normal form
/// (R2.2: the domain lower-cased; a generated address has nothing else to normalize, since its
/// domain was checked at creation). A profile id is found again by parsing its index out of it.
/// </summary>
public sealed class GeneratedMembers : IReadOnlyList<Recipient>
{
    /// <summary>Room for <c>g{seed}-{index}</c> with the longest seed and index an int can hold.</summary>
    public const int MaxProfileIdLength = 32;

    private readonly GeneratedSlice _slice;
    private readonly ScenarioDomainPicker? _picker;
    private readonly string _domain;

    public GeneratedMembers(GeneratedSlice slice)
    {
        _slice = slice;
        _picker = slice.Scenario is { } scenario ? new ScenarioDomainPicker(scenario) : null;
        _domain = slice.Target.Domain.ToLowerInvariant();
    }

    public GeneratedSlice Slice => _slice;

    public int Count => _slice.Members.Length;

    public Recipient this[int index] => Make(_slice.Members[index]);

    /// <summary>
    /// Whether member <paramref name="index"/>'s profile id or address contains <paramref name="text"/> (any
    /// case): what <see cref="Logs.LogFilter.MatchesRecipient"/> says of <c>this[index]</c>, answered from the
    /// member's number (<see cref="NumberedTextSearch"/>) for an ASCII text, so a search over a million
    /// generated logs neither allocates nor writes a string per log.
    /// </summary>
    public bool Mentions(int index, string text)
    {
        if (!ReferenceEquals(text, _searched))
        {
            _searched = text;
            var seed = _slice.Target.Seed;
            _profileSearch = NumberedTextSearch.For(string.Create(CultureInfo.InvariantCulture, $"g{seed}-"), "", 0, text);
            _addressSearches.Clear();
            _addressSearch = _slice.Channel == Channel.Sms
                ? NumberedTextSearch.For(string.Create(CultureInfo.InvariantCulture, $"+999{(uint)seed % 100_000:D5}"), "", 7, text)
                : _picker is null ? AddressSearch(_domain, text) : null;
        }

        var i = _slice.Members[index];
        if (_profileSearch is null || i < 0)
        {
            var made = this[index];
            return made.ProfileId.Contains(text, StringComparison.OrdinalIgnoreCase)
                || made.Address!.Contains(text, StringComparison.OrdinalIgnoreCase);
        }

        if (_profileSearch.Matches(i))
        {
            return true;
        }

        var addressSearch = _slice.Channel == Channel.Sms || _picker is null ? _addressSearch : AddressSearch(DomainOf(i), text);
        return addressSearch?.Matches(i) ?? this[index].Address!.Contains(text, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The address search on one domain, made once per domain and text (a scenario has a few domains, each one string).</summary>
    private NumberedTextSearch? AddressSearch(string domain, string text)
    {
        if (!_addressSearches.TryGetValue(domain, out var search))
        {
            search = NumberedTextSearch.For("user", string.Create(CultureInfo.InvariantCulture, $".s{_slice.Target.Seed}@{domain}"), 0, text);
            _addressSearches[domain] = search;
        }

        return search;
    }

    private string? _searched;
    private NumberedTextSearch? _profileSearch;
    private NumberedTextSearch? _addressSearch;
    private readonly Dictionary<string, NumberedTextSearch?> _addressSearches = new(ReferenceEqualityComparer.Instance);

    /// <summary>Target recipient <paramref name="i"/>, whether or not it is in this slice.</summary>
    public Recipient Make(int i) => TargetResolution.GeneratedRecipient(_slice.Target.Seed, i, _slice.Channel, DomainOf(i));

    /// <summary>Target recipient <paramref name="i"/> as the target wrote it, before normalization (for exclusion entries).</summary>
    public Recipient AsWritten(int i) =>
        TargetResolution.GeneratedRecipient(_slice.Target.Seed, i, _slice.Channel, _picker?.DomainOf(i) ?? _slice.Target.Domain);

    /// <summary>The normalized email domain of target recipient <paramref name="i"/>.</summary>
    public string DomainOf(int i) => _picker?.DomainOf(i) ?? _domain;

    /// <summary>The slice position of <paramref name="profileId"/>, or -1 when it is not one of this slice's.</summary>
    public int IndexOf(string profileId)
    {
        Span<char> own = stackalloc char[MaxProfileIdLength];
        own.TryWrite(CultureInfo.InvariantCulture, $"g{_slice.Target.Seed}-", out var prefix);
        var id = profileId.AsSpan();
        if (!id.StartsWith(own[..prefix], StringComparison.Ordinal)
            || !int.TryParse(id[prefix..], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
        {
            return -1;
        }

        // "g7-007" parses as 7 but is not recipient 7's id: only the id written back is.
        var length = WriteProfileId(own, _slice.Target.Seed, i);
        if (!id.SequenceEqual(own[..length]))
        {
            return -1;
        }

        var position = Array.BinarySearch(_slice.Members, i);
        return position < 0 ? -1 : position;
    }

    /// <summary>Writes <c>g{seed}-{i}</c>, a generated recipient's profile id, into <paramref name="destination"/>; answers its length.</summary>
    public static int WriteProfileId(Span<char> destination, int seed, int i)
    {
        destination.TryWrite(CultureInfo.InvariantCulture, $"g{seed}-{i}", out var written);
        return written;
    }

    public IEnumerator<Recipient> GetEnumerator()
    {
        for (var k = 0; k < _slice.Members.Length; k++)
        {
            yield return this[k];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
