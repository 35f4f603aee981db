using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Hosting;
using DeliveryGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Tests;

/// <summary>R9 end to end: MTA feedback reaches the address book through the partitions.</summary>
public sealed class QuarantineTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R9.1")]
    public async Task A_hard_bounce_puts_the_address_in_Quarantine()
    {
        var address = Unique.Email("hard");
        var delivery = await StartAsync(TestData.Definition([new("h", address), new("other", Unique.Email())], efs: true));
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
        var address = Unique.Email("soft");
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
        var ignoredAddress = Unique.Email("away");
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
        var address = Unique.Email("released");
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

    [Fact]
    [Trait("Rule", "R9.2")]
    [Trait("Rule", "R9.3")]
    [Trait("Rule", "R9.7")]
    public async Task The_address_book_counts_errors_with_the_silo_settings_up_to_quarantine()
    {
        var options = Cluster.GetSiloServiceProvider().GetRequiredService<IOptions<QuarantineOptions>>().Value;
        var interval = options.SignificantErrorInterval;
        Assert.True(interval > TimeSpan.Zero && options.MaxErrors > 1, "the test silo runs with the default settings");
        var address = Unique.Email("counted");
        var book = AddressBookOf(address);
        var t0 = DateTimeOffset.UtcNow;

        // MaxErrors - 1 counted errors, each with a too-soon error and an ignored failure after it that do not count.
        var events = new List<AddressEvent>();
        for (var n = 0; n < options.MaxErrors - 1; n++)
        {
            var at = t0 + (n * interval);
            events.Add(new AddressEvent(address, AddressEventKind.SoftBounce, FailureReason.MailboxFull, at));
            events.Add(new AddressEvent(address, AddressEventKind.SoftBounce, FailureReason.MailboxFull, at + (interval / 2)));
            events.Add(new AddressEvent(address, AddressEventKind.IgnoredFailure, FailureReason.NotConnected, at + (interval / 2)));
        }

        await book.RecordAsync(events);
        var erroneous = await book.GetAsync(address);
        Assert.Equal((AddressStatus.Erroneous, options.MaxErrors - 1), (erroneous.Status, erroneous.ErrorCount));

        await book.RecordAsync([new AddressEvent(address, AddressEventKind.SoftBounce, FailureReason.Unreachable, t0 + ((options.MaxErrors - 1) * interval))]);
        var quarantined = await book.GetAsync(address);
        Assert.Equal((AddressStatus.Quarantine, options.MaxErrors, FailureReason.Unreachable), (quarantined.Status, quarantined.ErrorCount, quarantined.Reason.GetValueOrDefault()));
        Assert.Contains(quarantined, await book.FindExcludedAsync([address]));
    }

    /// <summary>A fresh address in the same address-book shard as <paramref name="address"/>.</summary>
    private static string SameShardAs(string address)
    {
        var shard = AddressBook.ShardOf(address);
        while (true)
        {
            var candidate = Unique.Email("witness");
            if (AddressBook.ShardOf(candidate) == shard)
            {
                return candidate;
            }
        }
    }
}
