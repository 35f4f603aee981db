using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R13.7: one address, one record, whatever the case it is written in.</summary>
public sealed class AddressCaseTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact, Trait("Rule", "R13.7")]
    public async Task A_quarantined_address_is_excluded_and_read_in_any_case()
    {
        var id = Unique.Id();
        var lower = $"user{id}.s0@example.test";
        var upper = $"USER{id.ToUpperInvariant()}.S0@example.test";
        var delivery = await StartAsync(TestData.Definition([new("q", lower)], efs: true));
        await FeedAsync(delivery, "q", FeedbackType.HardBounce, FailureReason.UserUnknown);
        await AddressUntil(lower, r => r.Status == AddressStatus.Quarantine, "the address quarantined");

        var read = await AddressBookOf(upper).GetAsync(upper);
        Assert.Equal((AddressStatus.Quarantine, upper), (read.Status, read.Address));

        var later = await PrepareAsync(TestData.Definition([new("upper", upper), new("other", Unique.Email())]));
        var excluded = Assert.Single(await later.ListExclusionsAsync(TestData.Alice));
        Assert.Equal(("upper", upper, ExclusionReason.QuarantinedAddress), (excluded.ProfileId, excluded.Address, excluded.Reason));
    }

    [Fact, Trait("Rule", "R13.7")]
    public async Task An_opt_out_in_one_case_denylists_every_case_and_a_release_in_another_frees_it()
    {
        var address = Unique.Email("Ann");
        await AddressBookOf(address).OptOutAsync(address, DateTimeOffset.UtcNow);
        var other = address.ToUpperInvariant();
        Assert.Equal(AddressStatus.OnDenylist, (await AddressBookOf(other).GetAsync(other)).Status);

        await AddressBookOf(other).ReleaseAsync(other);
        Assert.Equal(AddressStatus.Valid, (await AddressBookOf(address).GetAsync(address)).Status);
    }

    [Fact, Trait("Rule", "R13.7")]
    public async Task Records_kept_under_another_case_before_are_merged_into_the_one_that_excludes_most()
    {
        var address = Unique.Email("merge");
        var book = AddressBookOf(address);
        var at = DateTimeOffset.UtcNow;
        await book.AdoptAsync([new AddressRecord(address.ToUpperInvariant(), AddressStatus.Erroneous, 3, at, FailureReason.MailboxFull)]);
        await book.AdoptAsync([new AddressRecord(address, AddressStatus.Quarantine, 1, at.AddHours(1), FailureReason.UserUnknown)]);

        var merged = await book.GetAsync(address.ToUpperInvariant());
        Assert.Equal((AddressStatus.Quarantine, 3, FailureReason.UserUnknown), (merged.Status, merged.ErrorCount, merged.Reason));
        Assert.Equal(at.AddHours(1), merged.LastErrorAt);
    }

    [Fact, Trait("Rule", "R13.7")]
    public void Merging_prefers_the_denylist_then_the_allowlist_then_quarantine()
    {
        var at = DateTimeOffset.UtcNow;
        AddressRecord Of(AddressStatus status, int errors = 0) => new("a@example.test", status, errors, at, null);
        Assert.Equal(AddressStatus.OnDenylist, QuarantineRules.Merge(Of(AddressStatus.Quarantine, 5), Of(AddressStatus.OnDenylist)).Status);
        Assert.Equal(AddressStatus.OnAllowlist, QuarantineRules.Merge(Of(AddressStatus.OnAllowlist), Of(AddressStatus.Quarantine)).Status);
        Assert.Equal(AddressStatus.Quarantine, QuarantineRules.Merge(Of(AddressStatus.Erroneous, 4), Of(AddressStatus.Quarantine, 1)).Status);
        Assert.Equal(4, QuarantineRules.Merge(Of(AddressStatus.Erroneous, 4), Of(AddressStatus.Erroneous, 2)).ErrorCount);
    }
}
