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

    [Alias("Get")]
    Task<AddressRecord> GetAsync(string address);
}

public static class AddressBook
{
    public const int ShardCount = 32;

    public static int ShardOf(string normalizedAddress) => StableHash.Bucket(normalizedAddress, ShardCount);
}
