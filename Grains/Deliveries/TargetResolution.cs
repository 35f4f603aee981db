using DeliveryGrains.Addresses;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The first half of preparation (R2.1): resolves the target in order, records the exclusions
/// that need no address history (empty, invalid, duplicate) and spreads the rest over partitions
/// by a stable hash of the profile id, so any profile's partition can be found again from its id.
/// Quarantine and denylist checks happen in the partitions, against the address book.
/// </summary>
public sealed record TargetResolution(IReadOnlyList<ExclusionEntry> Exclusions, List<Recipient>[] Partitions)
{
    public static TargetResolution Resolve(DeliveryDefinition definition, int partitionSize)
    {
        var exclusions = new List<ExclusionEntry>();
        var candidates = new List<Recipient>(definition.TargetSize);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var recipient in Target(definition))
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

        var partitions = new List<Recipient>[Math.Max(1, (candidates.Count + partitionSize - 1) / partitionSize)];
        for (var p = 0; p < partitions.Length; p++)
        {
            partitions[p] = new List<Recipient>(candidates.Count / partitions.Length + 16);
        }

        foreach (var candidate in candidates)
        {
            partitions[StableHash.Bucket(candidate.ProfileId, partitions.Length)].Add(candidate);
        }

        return new TargetResolution(exclusions, partitions);
    }

    private static IEnumerable<Recipient> Target(DeliveryDefinition definition)
    {
        if (definition.Recipients is { } recipients)
        {
            return recipients;
        }

        var generated = definition.GeneratedTarget!;
        return Enumerable.Range(0, generated.Count).Select(i => GeneratedRecipient(generated, i));
    }

    /// <summary>The i-th recipient of a generated target: the same for the same seed, so a rerun meets its own quarantine.</summary>
    public static Recipient GeneratedRecipient(GeneratedTarget target, int i) =>
        new($"g{target.Seed}-{i}", $"user{i}.s{target.Seed}@{target.Domain}");
}
