using System.Globalization;
using DeliveryGrains.Addresses;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The first half of preparation (R2.1): resolves the target in order, records the exclusions
/// that need no address history (empty, invalid, duplicate) and spreads the rest over partitions
/// by a stable hash of the profile id, so any profile's partition can be found again from its id.
/// Quarantine and denylist checks happen in the partitions, against the address book.
/// <para>
/// A generated target is resolved without making its recipients: each index is hashed from its
/// profile id written into a stack buffer, and a partition is handed its indices
/// (<see cref="GeneratedSlice"/>), so ten million recipients cost the delivery 4 bytes each and
/// their partitions make them as they need them. Generated addresses are distinct by construction
/// (the index is in each one), so no duplicate check is needed; whether one is valid depends only on
/// its domain and its length, so it is checked once per domain and index length.
/// </para>
/// </summary>
public sealed class TargetResolution
{
    private readonly List<Recipient>[]? _listed;
    private readonly List<int>[]? _generated;
    private readonly DeliveryDefinition _definition;

    private TargetResolution(DeliveryDefinition definition, IReadOnlyList<ExclusionEntry> exclusions, List<Recipient>[]? listed, List<int>[]? generated)
    {
        _definition = definition;
        Exclusions = exclusions;
        _listed = listed;
        _generated = generated;
    }

    public IReadOnlyList<ExclusionEntry> Exclusions { get; }

    public int PartitionCount => _listed?.Length ?? _generated!.Length;

    /// <summary>What partition <paramref name="partition"/> is prepared with.</summary>
    public PartitionPlan PlanFor(string deliveryId, int partition) => _listed is not null
        ? new PartitionPlan(deliveryId, _definition.Channel, _listed[partition])
        : new PartitionPlan(deliveryId, _definition.Channel, [], SliceOf(_definition, [.. _generated![partition]]));

    /// <summary>Partition <paramref name="partition"/>'s candidates in target order.</summary>
    public IReadOnlyList<Recipient> Candidates(int partition) => _listed is not null
        ? _listed[partition]
        : new GeneratedMembers(SliceOf(_definition, [.. _generated![partition]]));

    public static TargetResolution Resolve(DeliveryDefinition definition, int partitionSize) =>
        definition.GeneratedTarget is { } generated && definition.Recipients is null
            ? ResolveGenerated(definition, generated, partitionSize)
            : ResolveListed(definition, definition.Recipients ?? [], partitionSize);

    private static TargetResolution ResolveListed(DeliveryDefinition definition, IReadOnlyList<Recipient> recipients, int partitionSize)
    {
        var exclusions = new List<ExclusionEntry>();
        var candidates = new List<Recipient>(recipients.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            if (string.IsNullOrWhiteSpace(recipient.Address))
            {
                exclusions.Add(new ExclusionEntry(recipient.ProfileId, recipient.Address, ExclusionReason.AddressEmpty));
                continue;
            }

            var normalized = AddressSyntax.Normalize(recipient.Address, definition.Channel);
            if (!AddressSyntax.IsValid(normalized, definition.Channel))
            {
                exclusions.Add(new ExclusionEntry(recipient.ProfileId, recipient.Address, ExclusionReason.InvalidAddress));
            }
            else if (!seen.Add(normalized))
            {
                exclusions.Add(new ExclusionEntry(recipient.ProfileId, recipient.Address, ExclusionReason.Duplicate));
            }
            else
            {
                candidates.Add(recipient with { Address = normalized });
            }
        }

        var partitions = NewPartitions<Recipient>(candidates.Count, partitionSize);
        foreach (var candidate in candidates)
        {
            partitions[StableHash.Bucket(candidate.ProfileId, partitions.Length)].Add(candidate);
        }

        return new TargetResolution(definition, exclusions, partitions, null);
    }

    private static TargetResolution ResolveGenerated(DeliveryDefinition definition, GeneratedTarget target, int partitionSize)
    {
        var all = new GeneratedMembers(SliceOf(definition, []));
        var validity = new Dictionary<(string Domain, int Digits), bool>();
        bool IsValid(int i)
        {
            var key = (all.DomainOf(i), Digits(i));
            if (!validity.TryGetValue(key, out var valid))
            {
                validity[key] = valid = AddressSyntax.IsValid(all.Make(i).Address!, definition.Channel);
            }

            return valid;
        }

        var exclusions = new List<ExclusionEntry>();
        for (var i = 0; i < target.Count; i++)
        {
            if (!IsValid(i))
            {
                var recipient = all.AsWritten(i);
                exclusions.Add(new ExclusionEntry(recipient.ProfileId, recipient.Address, ExclusionReason.InvalidAddress));
            }
        }

        var partitions = NewPartitions<int>(target.Count - exclusions.Count, partitionSize);
        Span<char> profileId = stackalloc char[GeneratedMembers.MaxProfileIdLength];
        for (var i = 0; i < target.Count; i++)
        {
            if (IsValid(i))
            {
                var length = GeneratedMembers.WriteProfileId(profileId, target.Seed, i);
                partitions[StableHash.Bucket(profileId[..length], partitions.Length)].Add(i);
            }
        }

        return new TargetResolution(definition, exclusions, null, partitions);
    }

    private static List<T>[] NewPartitions<T>(int candidates, int partitionSize)
    {
        var partitions = new List<T>[Math.Max(1, (candidates + partitionSize - 1) / partitionSize)];
        for (var p = 0; p < partitions.Length; p++)
        {
            partitions[p] = new List<T>(candidates / partitions.Length + 16);
        }

        return partitions;
    }

    private static GeneratedSlice SliceOf(DeliveryDefinition definition, int[] members) => new(
        definition.GeneratedTarget!,
        definition.Channel,
        definition.Channel == Channel.Email ? definition.Mta.Scenario : null,
        members);

    /// <summary>The decimal digits of a non-negative index, counted in integers (a logarithm can round below a power of ten).</summary>
    private static int Digits(int i)
    {
        var digits = 1;
        for (; i >= 10; i /= 10)
        {
            digits++;
        }

        return digits;
    }

    /// <summary>
    /// The i-th recipient of a generated target: the same for the same seed, so a rerun meets its own
    /// quarantine. Email: <c>user{i}.s{seed}@{domain}</c>. SMS: a valid E.164 number (R2.2) in the
    /// country code +999, which the ITU keeps in reserve, so it is no one's real phone: <c>+999</c>,
    /// the seed's last five digits, then <c>i</c> in seven digits (15 digits in all, enough for the
    /// 10,000,000 recipients a generated target may have); the domain is not used. With a simulator
    /// scenario (R12.5) the email domain is the scenario's, picked by share (<see cref="ScenarioDomainPicker"/>).
    /// </summary>
    public static Recipient GeneratedRecipient(GeneratedTarget target, int i, Channel channel = Channel.Email) =>
        GeneratedRecipient(target.Seed, i, channel, target.Domain);

    internal static Recipient GeneratedRecipient(int seed, int i, Channel channel, string domain) => new(
        string.Create(CultureInfo.InvariantCulture, $"g{seed}-{i}"),
        channel == Channel.Sms
            ? string.Create(CultureInfo.InvariantCulture, $"+999{(uint)seed % 100_000:D5}{i:D7}")
            : string.Create(CultureInfo.InvariantCulture, $"user{i}.s{seed}@{domain}"));
}
