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
        if (definition.Mta.Scenario is { } scenario && definition.Channel == Channel.Email)
        {
            // R12.5: the addresses go on the scenario's domains by share.
            var picker = new ScenarioDomainPicker(scenario);
            return Enumerable.Range(0, generated.Count).Select(i => GeneratedRecipient(generated with { Domain = picker.DomainOf(i) }, i));
        }

        return Enumerable.Range(0, generated.Count).Select(i => GeneratedRecipient(generated, i, definition.Channel));
    }

    /// <summary>
    /// The i-th recipient of a generated target: the same for the same seed, so a rerun meets its own
    /// quarantine. Email: <c>user{i}.s{seed}@{domain}</c>. SMS: a valid E.164 number (R2.2) in the
    /// country code +999, which the ITU keeps in reserve, so it is no one's real phone: <c>+999</c>,
    /// the seed's last five digits, then <c>i</c> in seven digits (15 digits in all, enough for the
    /// 10,000,000 recipients a generated target may have); the domain is not used. With a simulator
    /// scenario (R12.5) the email domain is the scenario's, picked by share (<see cref="ScenarioDomainPicker"/>).
    /// </summary>
    public static Recipient GeneratedRecipient(GeneratedTarget target, int i, Channel channel = Channel.Email) => new(
        $"g{target.Seed}-{i}",
        channel == Channel.Sms
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"+999{(uint)target.Seed % 100_000:D5}{i:D7}")
            : $"user{i}.s{target.Seed}@{target.Domain}");
}
