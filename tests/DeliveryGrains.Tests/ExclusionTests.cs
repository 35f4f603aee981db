using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R2.1/R2.2: preparation writes one sending log per message and one exclusion per excluded recipient.</summary>
public sealed class ExclusionTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R2.2")]
    public async Task Empty_and_syntactically_invalid_addresses_are_excluded()
    {
        var ok = Unique.Email("ok");
        var delivery = await CreateAsync(TestData.Definition(
        [
            new("empty", ""),
            new("missing", null),
            new("blank", "   "),
            new("no-at", "not-an-address"),
            new("two-ats", "a@b@example.test"),
            new("no-dot", "someone@localhost"),
            new("ok", ok),
        ]));

        var prepared = await delivery.PrepareAsync(TestData.Alice);

        Assert.Equal(1, prepared.ToDeliver);
        Assert.Equal(3, prepared.Excluded[ExclusionReason.AddressEmpty]);
        Assert.Equal(3, prepared.Excluded[ExclusionReason.InvalidAddress]);
        var exclusions = (await delivery.ListExclusionsAsync(TestData.Alice)).ToDictionary(e => e.ProfileId, e => e.Reason);
        Assert.Equal(ExclusionReason.AddressEmpty, exclusions["empty"]);
        Assert.Equal(ExclusionReason.AddressEmpty, exclusions["missing"]);
        Assert.Equal(ExclusionReason.AddressEmpty, exclusions["blank"]);
        Assert.Equal(ExclusionReason.InvalidAddress, exclusions["no-at"]);
        Assert.Equal(ExclusionReason.InvalidAddress, exclusions["two-ats"]);
        Assert.Equal(ExclusionReason.InvalidAddress, exclusions["no-dot"]);
        Assert.DoesNotContain("ok", exclusions.Keys);
        Assert.Equal(1, (await delivery.GetViewAsync()).Kpis.ToDeliver);
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R2.2")]
    public async Task Duplicates_compare_the_domain_lower_cased_and_the_local_part_as_written()
    {
        var local = $"Ann.{Unique.Id()}";
        var delivery = await CreateAsync(TestData.Definition(
        [
            new("first", $"{local}@Example.test"),
            new("same-domain-other-case", $"{local}@example.TEST"),
            new("padded", $"  {local}@EXAMPLE.test "),
            new("local-part-lower", $"{local.ToLowerInvariant()}@example.test"),
        ]));

        var prepared = await delivery.PrepareAsync(TestData.Alice);

        Assert.Equal(2, prepared.ToDeliver);
        Assert.Equal(2, prepared.Excluded[ExclusionReason.Duplicate]);
        var exclusions = await delivery.ListExclusionsAsync(TestData.Alice);
        Assert.Equal(["same-domain-other-case", "padded"], exclusions.Select(e => e.ProfileId).ToArray());
        Assert.All(exclusions, e => Assert.Equal(ExclusionReason.Duplicate, e.Reason));

        // The first occurrence is the one kept, with its domain lower-cased.
        var first = await delivery.GetLogAsync("first", TestData.Alice);
        Assert.Equal($"{local}@example.test", first.Address);
        Assert.Equal(LogStatus.ToDeliver, first.Status);
        Assert.Equal(LogStatus.ToDeliver, (await delivery.GetLogAsync("local-part-lower", TestData.Alice)).Status);
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R9.1")]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R13.7")]
    public async Task An_address_quarantined_by_a_hard_bounce_in_an_earlier_delivery_is_excluded()
    {
        var address = Unique.Email("bounced");
        await QuarantineAsync(address);

        var fine = Unique.Email("fine");
        var delivery = await CreateAsync(TestData.Definition([new("q", address.ToUpperInvariant().Replace("@EXAMPLE.TEST", "@example.test", StringComparison.Ordinal)), new("q-same", address), new("fine", fine)]));
        var prepared = await delivery.PrepareAsync(TestData.Alice);

        // "q" differs only in the case of its local part: R13.7 makes it the quarantined address too.
        Assert.Equal(1, prepared.ToDeliver);
        var exclusions = await delivery.ListExclusionsAsync(TestData.Alice);
        Assert.Equal(new ExclusionEntry("q-same", address, ExclusionReason.QuarantinedAddress), Assert.Single(exclusions, e => e.ProfileId == "q-same"));
        Assert.Equal(ExclusionReason.QuarantinedAddress, Assert.Single(exclusions, e => e.ProfileId == "q").Reason);
        Assert.Equal(2, prepared.Excluded[ExclusionReason.QuarantinedAddress]);
        await Assert.ThrowsAsync<NotFoundException>(() => delivery.GetLogAsync("q-same", TestData.Alice));
    }

    [Fact]
    [Trait("Rule", "R2.2")]
    [Trait("Rule", "R9.6")]
    public async Task The_first_reason_that_applies_is_recorded()
    {
        var quarantined = Unique.Email("quarantined");
        await QuarantineAsync(quarantined);
        var at = quarantined.IndexOf('@');
        var quarantinedUpperDomain = quarantined[..at] + quarantined[at..].ToUpperInvariant();

        var delivery = await CreateAsync(TestData.Definition(
        [
            new("blank", " "),                       // empty before invalid
            new("invalid", "no-at-sign"),
            new("invalid-again", "no-at-sign"),       // invalid before duplicate
            new("quarantined", quarantinedUpperDomain),
            new("quarantined-dup", quarantined),      // duplicate before quarantined
        ]));
        await delivery.PrepareAsync(TestData.Alice);

        var reasons = (await delivery.ListExclusionsAsync(TestData.Alice)).ToDictionary(e => e.ProfileId, e => e.Reason);
        Assert.Equal(ExclusionReason.AddressEmpty, reasons["blank"]);
        Assert.Equal(ExclusionReason.InvalidAddress, reasons["invalid"]);
        Assert.Equal(ExclusionReason.InvalidAddress, reasons["invalid-again"]);
        Assert.Equal(ExclusionReason.QuarantinedAddress, reasons["quarantined"]);
        Assert.Equal(ExclusionReason.Duplicate, reasons["quarantined-dup"]);
        Assert.Equal(0, (await delivery.GetViewAsync()).Kpis.ToDeliver);
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R9.5")]
    [Trait("Rule", "R9.6")]
    public async Task A_denylisted_address_is_excluded_as_Denylisted()
    {
        var address = Unique.Email("complained");
        await DenylistAsync(address);

        var delivery = await CreateAsync(TestData.Definition([new("d", address), new("ok", Unique.Email())]));
        var prepared = await delivery.PrepareAsync(TestData.Alice);

        Assert.Equal(1, prepared.ToDeliver);
        Assert.Equal(ExclusionReason.Denylisted, Assert.Single(await delivery.ListExclusionsAsync(TestData.Alice)).Reason);
    }

    [Fact]
    [Trait("Rule", "R2.2")]
    [Trait("Rule", "R11.2")]
    public async Task Sms_numbers_must_be_E164()
    {
        var n = Random.Shared.Next(10_000_000, 99_999_999);
        var delivery = await CreateAsync(TestData.Definition(
        [
            new("ok-short", $"+{n}"),                  // + and 8 digits
            new("ok-long", $"+3361{n}{n % 1000:000}"), // + and 15 digits
            new("too-short", "+1234567"),
            new("too-long", "+1234567890123456"),
            new("no-plus", $"0{n}"),
            new("letters", "+33612ab5678"),
            new("dup", $" +{n} "),
        ], channel: Channel.Sms));

        var prepared = await delivery.PrepareAsync(TestData.Alice);

        Assert.Equal(2, prepared.ToDeliver);
        var reasons = (await delivery.ListExclusionsAsync(TestData.Alice)).ToDictionary(e => e.ProfileId, e => e.Reason);
        Assert.Equal(ExclusionReason.InvalidAddress, reasons["too-short"]);
        Assert.Equal(ExclusionReason.InvalidAddress, reasons["too-long"]);
        Assert.Equal(ExclusionReason.InvalidAddress, reasons["no-plus"]);
        Assert.Equal(ExclusionReason.InvalidAddress, reasons["letters"]);
        Assert.Equal(ExclusionReason.Duplicate, reasons["dup"]);
        Assert.Equal(5, reasons.Count);
    }

    [Fact]
    [Trait("Rule", "R2.2")]
    [Trait("Rule", "R8.1")]
    public async Task To_deliver_counts_the_sending_logs_after_exclusions_over_several_partitions()
    {
        var quarantined = Unique.Email("q");
        await QuarantineAsync(quarantined);
        var recipients = TestData.Recipients(50).ToList();
        recipients[3] = recipients[3] with { Address = "" };
        recipients[17] = recipients[17] with { Address = "bad" };
        recipients[29] = recipients[29] with { Address = recipients[28].Address };
        recipients[41] = recipients[41] with { Address = quarantined };

        var delivery = await CreateAsync(TestData.Definition(recipients));
        var prepared = await delivery.PrepareAsync(TestData.Alice);

        Assert.Equal(46, prepared.ToDeliver);
        Assert.Equal(4, prepared.Excluded.Values.Sum());
        Assert.Equal(4, (await delivery.ListExclusionsAsync(TestData.Alice)).Count);
        var view = await delivery.GetViewAsync();
        Assert.Equal(46, view.Kpis.ToDeliver);
        Assert.Equal(0, view.Kpis.Sent);
        Assert.True(46 > ClusterFixture.PartitionSize, "the target spans several partitions");

        await delivery.ConfirmSendAsync(TestData.Alice);
        var kpis = await KpisUntil(delivery, k => k.Sent == 46, "46 messages relayed");
        Assert.Equal(46, kpis.ToDeliver);
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R9.6")]
    public async Task A_generated_target_made_in_its_partitions_leaves_out_quarantined_addresses_and_finds_each_log_by_profile()
    {
        // An upper-case domain: quarantine and logs know the address in normal form only.
        var target = new GeneratedTarget(100, Random.Shared.Next(1_000, 1_000_000), $"{Unique.Id()}.Example");
        var quarantined = new[] { 7, 63 }.Select(i => TargetResolution.GeneratedRecipient(target, i)).ToList();
        foreach (var recipient in quarantined)
        {
            await QuarantineAsync(recipient.Address!);
        }

        var delivery = await CreateAsync(TestData.Definition(generated: target));
        var prepared = await delivery.PrepareAsync(TestData.Alice);

        Assert.Equal(98, prepared.ToDeliver);
        Assert.Equal(
            quarantined.Select(r => new ExclusionEntry(r.ProfileId, AddressSyntax.Normalize(r.Address!, Channel.Email), ExclusionReason.QuarantinedAddress)),
            (await delivery.ListExclusionsAsync(TestData.Alice)).OrderBy(e => e.ProfileId.Length).ThenBy(e => e.ProfileId, StringComparer.Ordinal));
        Assert.True(100 > ClusterFixture.PartitionSize, "the target spans several partitions");

        await delivery.ConfirmSendAsync(TestData.Alice);
        var kept = Enumerable.Range(0, 100).Except([7, 63]).Select(i => TargetResolution.GeneratedRecipient(target, i)).ToList();
        await KpisUntil(delivery, k => k.Sent == 98, "98 messages relayed");
        foreach (var recipient in kept)
        {
            var log = await delivery.GetLogAsync(recipient.ProfileId, TestData.Alice);
            Assert.Equal((recipient.ProfileId, AddressSyntax.Normalize(recipient.Address!, Channel.Email)), (log.ProfileId, log.Address));
        }

        await Assert.ThrowsAsync<NotFoundException>(() => delivery.GetLogAsync(quarantined[0].ProfileId, TestData.Alice));
        Assert.Equal(FeedbackOutcome.Accepted, await FeedAsync(delivery, kept[40].ProfileId, FeedbackType.HardBounce, FailureReason.UserUnknown));
        await LogUntil(delivery, kept[40].ProfileId, log => log.Status == LogStatus.Failed, "the external bounce applied to its generated log");
    }
}
