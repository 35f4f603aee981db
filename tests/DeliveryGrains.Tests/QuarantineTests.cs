using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R9 end to end: MTA feedback reaches the address book through the partitions.</summary>
public sealed class QuarantineTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R9.1")]
    public async Task A_hard_bounce_puts_the_address_in_Quarantine()
    {
        var address = TestData.Email("hard");
        var delivery = await StartAsync(TestData.Definition([new("h", address), new("other", TestData.Email())], efs: true));
        Assert.Equal(AddressStatus.Valid, (await AddressBookOf(address).GetAsync(address)).Status);

        await FeedAsync(delivery, "h", FeedbackType.HardBounce, FailureReason.UserUnknown);

        var record = await AddressUntil(address, r => r.Status == AddressStatus.Quarantine, "the address quarantined");
        Assert.Equal(FailureReason.UserUnknown, record.Reason);
        Assert.Contains(record, await AddressBookOf(address).FindExcludedAsync([address]));
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    [Trait("Rule", "R9.4")]
    public async Task A_soft_bounce_makes_the_address_Erroneous_and_a_delivered_retry_makes_it_Valid_again()
    {
        var address = TestData.Email("soft");
        var delivery = await StartAsync(TestData.Definition([new("s", address)], efs: true, retryPeriod: TimeSpan.FromHours(1)));

        await FeedAsync(delivery, "s", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        var erroneous = await AddressUntil(address, r => r.Status == AddressStatus.Erroneous, "the address Erroneous");
        Assert.Equal(1, erroneous.ErrorCount);

        await FeedAsync(delivery, "s", FeedbackType.Delivered);
        var valid = await AddressUntil(address, r => r.Status == AddressStatus.Valid, "the address Valid again");
        Assert.Equal(0, valid.ErrorCount);
    }

    [Fact]
    [Trait("Rule", "R9.7")]
    [Trait("Rule", "R4")]
    public async Task An_ignored_failure_leaves_the_address_alone()
    {
        var ignoredAddress = TestData.Email("away");
        var witness = SameShardAs(ignoredAddress);
        var delivery = await StartAsync(TestData.Definition([new("away", ignoredAddress), new("witness", witness)], efs: true, retryPeriod: TimeSpan.FromHours(1)));

        await FeedAsync(delivery, "away", FeedbackType.SoftBounce, FailureReason.NotConnected);
        await FeedAsync(delivery, "witness", FeedbackType.HardBounce, FailureReason.UserUnknown);

        // Both addresses live in one shard, which applies events in order: once the later one is in, so is the ignored one.
        await AddressUntil(witness, r => r.Status == AddressStatus.Quarantine, "the witness quarantined");
        Assert.Equal(AddressRecord.ValidAddress(ignoredAddress), await AddressBookOf(ignoredAddress).GetAsync(ignoredAddress));
        var log = await delivery.GetLogAsync("away", TestData.Alice);
        Assert.Equal((FailureType.Ignored, LogPhase.AwaitingRetry), (log.FailureType.GetValueOrDefault(), log.Phase));
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    public async Task A_released_address_is_delivered_to_again()
    {
        var address = TestData.Email("released");
        await QuarantineAsync(address);
        var blocked = await PrepareAsync(TestData.Definition([new("r", address)]));
        Assert.Equal(ExclusionReason.QuarantinedAddress, Assert.Single(await blocked.ListExclusionsAsync(TestData.Alice)).Reason);

        var released = await AddressBookOf(address).ReleaseAsync(address);

        Assert.Equal(AddressRecord.ValidAddress(address), released);
        Assert.Equal(AddressStatus.Valid, (await AddressBookOf(address).GetAsync(address)).Status);
        var again = await PrepareAsync(TestData.Definition([new("r", address)]));
        Assert.Empty(await again.ListExclusionsAsync(TestData.Alice));
        Assert.Equal(1, (await again.GetViewAsync()).Kpis.ToDeliver);
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    [Trait("Rule", "R11.2")]
    public async Task An_sms_complaint_puts_the_number_on_the_denylist_and_excludes_it()
    {
        var number = "+4479" + Random.Shared.Next(10_000_000, 99_999_999);
        await DenylistAsync(number, Channel.Sms);

        var delivery = await PrepareAsync(TestData.Definition([new("n", number)], channel: Channel.Sms));

        Assert.Equal(new ExclusionEntry("n", number, ExclusionReason.Denylisted), Assert.Single(await delivery.ListExclusionsAsync(TestData.Alice)));
    }

    /// <summary>A fresh address in the same address-book shard as <paramref name="address"/>.</summary>
    private static string SameShardAs(string address)
    {
        var shard = AddressBook.ShardOf(address);
        while (true)
        {
            var candidate = TestData.Email("witness");
            if (AddressBook.ShardOf(candidate) == shard)
            {
                return candidate;
            }
        }
    }
}
