using Orleans.Concurrency;

namespace DeliveryGrains.Addresses;

/// <summary>
/// One shard of the quarantine (R9), keyed by <see cref="AddressBook.ShardOf"/>. Holds only the
/// addresses with a history; an address it does not hold is <see cref="AddressStatus.Valid"/>.
/// </summary>
[Alias("IAddressBookGrain")]
public interface IAddressBookGrain : IGrainWithIntegerKey
{
    /// <summary>Of the given normalized addresses, those excluded at preparation (R9.6).</summary>
    [Alias("FindExcluded")]
    Task<IReadOnlyList<AddressRecord>> FindExcludedAsync(IReadOnlyList<string> addresses);

    /// <summary>Applies the quarantine rules (R9.1–R9.5, R9.7) to a batch of events, in order.</summary>
    [Alias("Record")]
    Task RecordAsync(IReadOnlyList<AddressEvent> events);

    /// <summary>
    /// R9.5, R11.2: the recipient of <paramref name="address"/> (normalized) opted out, e.g. by an
    /// inbound SMS STOP. The address goes <see cref="AddressStatus.OnDenylist"/> with the reason
    /// <c>Denylisted</c>, whatever its status was, and stays there until an administrator releases
    /// it. Answers the address's record afterwards; opting out twice changes nothing more.
    /// </summary>
    [Alias("OptOut")]
    Task<AddressRecord> OptOutAsync(string address, DateTimeOffset at);

    /// <summary>R9.6: an administrator releases an address; it becomes Valid with no errors.</summary>
    [Alias("Release")]
    Task<AddressRecord> ReleaseAsync(string address);

    /// <summary>R9.6 in bulk: releases each of these addresses (normalized) held here, written once; answers how many were held.</summary>
    [Alias("ReleaseMany")]
    Task<int> ReleaseManyAsync(IReadOnlyList<string> addresses);

    /// <summary>This shard's excluded addresses (Quarantine, OnDenylist) that <paramref name="search"/> keeps: a page in address order and the count.</summary>
    [Alias("SearchExcluded"), ReadOnly]
    Task<AddressSearchPage> SearchExcludedAsync(AddressSearch search);

    [Alias("Get")]
    Task<AddressRecord> GetAsync(string address);

    /// <summary>
    /// R13.7: records another shard held under a key of another case (written before R13.7), handed
    /// over to the shard their case-folded key belongs to; each is merged with what this shard holds.
    /// </summary>
    [Alias("Adopt")]
    Task AdoptAsync(IReadOnlyList<AddressRecord> records);

    /// <summary>
    /// R13.7: hands the records this shard holds under a key of another case, and whose case-folded
    /// key belongs to another shard, over to that shard (<see cref="AdoptAsync"/>), and stores what
    /// this shard re-keyed at activation. Called for every shard at each durable silo's start; once
    /// done it finds nothing.
    /// </summary>
    [Alias("HandOver")]
    Task HandOverAsync();
}

public static class AddressBook
{
    public const int ShardCount = 32;

    public static int ShardOf(string normalizedAddress) => StableHash.Bucket(Key(normalizedAddress), ShardCount);

    /// <summary>
    /// R13.7: the form an address is kept and matched in: an email address without regard to case
    /// (<c>Ann@Example.test</c> and <c>ann@example.test</c> are one record); a phone number as it is.
    /// </summary>
    public static string Key(string normalizedAddress) =>
        normalizedAddress.StartsWith('+') ? normalizedAddress : normalizedAddress.ToLowerInvariant();
}

/// <summary>
/// Excluded addresses of one status or both (<see cref="Status"/> null), whose key contains <see cref="Text"/>
/// (any case): the <see cref="Limit"/> first after <see cref="After"/>, or the last before <see cref="Before"/>, in ordinal order.
/// </summary>
[GenerateSerializer, Immutable, Alias("AddressSearch")]
public sealed record AddressSearch(
    [property: Id(0)] AddressStatus? Status,
    [property: Id(1)] string? Text,
    [property: Id(2)] string? After,
    [property: Id(3)] string? Before,
    [property: Id(4)] int Limit)
{
    public bool Keeps(AddressRecord record) =>
        record.IsExcluded
        && (Status is null || record.Status == Status)
        && (Text is null || record.Address.Contains(Text, StringComparison.OrdinalIgnoreCase));
}

[GenerateSerializer, Immutable, Alias("AddressSearchPage")]
public sealed record AddressSearchPage(
    [property: Id(0)] IReadOnlyList<AddressRecord> Items,
    [property: Id(1)] int Total);
