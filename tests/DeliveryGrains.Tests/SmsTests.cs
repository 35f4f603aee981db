using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R11.2: the SMS channel end to end on the grains, and the opt-out (STOP) it brings.</summary>
public sealed class SmsTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    /// <summary>A simulator that delivers every message and would open and click every one of them, were it email.</summary>
    private static readonly MtaSettings EagerSimulator = new(
        MtaKind.Simulated, HardBounceRate: 0, SoftBounceRate: 0, OpenRate: 1, ClickRate: 1, FeedbackDelay: TimeSpan.Zero, Seed: 5);

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R8.4")]
    [Trait("Rule", "R2.2")]
    public async Task An_sms_delivery_runs_through_the_simulated_mta_and_counts_no_opens_or_clicks()
    {
        var recipients = Enumerable.Range(0, 20).Select(i => new Recipient($"s{i}", Unique.Phone())).ToList();
        recipients.Add(new Recipient("too-short", "+1234567"));
        recipients.Add(new Recipient("national", "0612345678"));

        var delivery = await StartAsync(TestData.Definition(recipients, channel: Channel.Sms, mta: EagerSimulator));
        await KpisUntil(delivery, k => k.Delivered == 20, "every SMS delivered");
        var stats = await delivery.ComputeStatsAsync(TestData.Alice);

        Assert.Equal((20L, 20L, 20L, 100.0), (stats.ToDeliver, stats.Sent, stats.Delivered, stats.DeliveredRate));
        Assert.Equal((0L, 0L, 0.0, 0.0), (stats.Opens, stats.Clicks, stats.OpenRate, stats.ClickThroughRate));
        var logs = await delivery.ListLogsAsync(new LogQuery(null, null, 100), TestData.Alice);
        Assert.Equal(20, logs.Items.Count);
        Assert.All(logs.Items, log => Assert.Equal((LogStatus.Sent, false, false), (log.Status, log.Opened, log.Clicked)));
        var exclusions = await delivery.ListExclusionsAsync(TestData.Alice);
        Assert.Equal(["national", "too-short"], exclusions.Select(e => e.ProfileId).Order());
        Assert.All(exclusions, e => Assert.Equal(ExclusionReason.InvalidAddress, e.Reason));
    }

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R2.2")]
    public async Task A_generated_sms_target_is_made_of_distinct_E164_numbers()
    {
        var target = new GeneratedTarget(40, Random.Shared.Next(1_000_000, 2_000_000), "example.test");
        var numbers = Enumerable.Range(0, target.Count).Select(i => TargetResolution.GeneratedRecipient(target, i, Channel.Sms).Address!).ToList();

        Assert.All(numbers, n => Assert.True(AddressSyntax.IsValid(n, Channel.Sms), n));
        Assert.Equal(target.Count, numbers.Distinct().Count());
        var largest = TargetResolution.GeneratedRecipient(new GeneratedTarget(10_000_000, -1, "example.test"), 9_999_999, Channel.Sms);
        Assert.True(AddressSyntax.IsValid(largest.Address!, Channel.Sms), largest.Address);
        Assert.Equal($"user7.s{target.Seed}@example.test", TargetResolution.GeneratedRecipient(target, 7).Address);

        var delivery = await PrepareAsync(TestData.Definition(generated: target, channel: Channel.Sms));

        Assert.Equal(40, (await delivery.GetViewAsync()).Kpis.ToDeliver);
        Assert.Empty(await delivery.ListExclusionsAsync(TestData.Alice));
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R2.1")]
    public async Task An_opt_out_puts_the_number_on_the_denylist_and_later_sms_deliveries_exclude_it()
    {
        var number = Unique.Phone();
        var book = AddressBookOf(number);

        var record = await book.OptOutAsync(number, DateTimeOffset.UtcNow);

        Assert.Equal((AddressStatus.OnDenylist, FailureReason.Denylisted), (record.Status, record.Reason.GetValueOrDefault()));
        Assert.Equal(record, await book.GetAsync(number));
        Assert.Equal(record, await book.OptOutAsync(number, DateTimeOffset.UtcNow.AddMinutes(1)));
        var delivery = await PrepareAsync(TestData.Definition([new("stopped", number), new("other", Unique.Phone())], channel: Channel.Sms));
        Assert.Equal(new ExclusionEntry("stopped", number, ExclusionReason.Denylisted), Assert.Single(await delivery.ListExclusionsAsync(TestData.Alice)));
        Assert.Equal(1, (await delivery.GetViewAsync()).Kpis.ToDeliver);
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R11.2")]
    public async Task An_opt_out_outranks_a_quarantine_and_only_a_release_lifts_it()
    {
        var number = Unique.Phone();
        await QuarantineAsync(number, Channel.Sms);
        var book = AddressBookOf(number);

        Assert.Equal(AddressStatus.OnDenylist, (await book.OptOutAsync(number, DateTimeOffset.UtcNow)).Status);
        var now = DateTimeOffset.UtcNow;
        await book.RecordAsync(
        [
            new AddressEvent(number, AddressEventKind.Success, null, now),
            new AddressEvent(number, AddressEventKind.SoftBounce, FailureReason.Unreachable, now),
        ]);
        Assert.Equal(AddressStatus.OnDenylist, (await book.GetAsync(number)).Status);

        Assert.Equal(AddressRecord.ValidAddress(number), await book.ReleaseAsync(number));
        var again = await PrepareAsync(TestData.Definition([new("back", number)], channel: Channel.Sms));
        Assert.Empty(await again.ListExclusionsAsync(TestData.Alice));
    }
}
