using DeliveryGrains.Addresses;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Tests;

/// <summary>R9.1–R9.5 and R9.7 on the pure rule, without a cluster.</summary>
public sealed class QuarantineRulesTests
{
    private const string Address = "someone@example.test";
    private static readonly QuarantineOptions Defaults = new();
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private static AddressRecord Valid => AddressRecord.ValidAddress(Address);

    private static AddressEvent Event(AddressEventKind kind, DateTimeOffset at, FailureReason? reason = null) => new(Address, kind, reason, at);

    private static AddressRecord Apply(AddressRecord record, params AddressEvent[] events) =>
        events.Aggregate(record, (r, e) => QuarantineRules.Apply(r, e, Defaults));

    [Fact]
    [Trait("Rule", "R9")]
    public void The_defaults_are_5_errors_and_24_hours()
    {
        Assert.Equal(5, Defaults.MaxErrors);
        Assert.Equal(TimeSpan.FromDays(1), Defaults.SignificantErrorInterval);
    }

    [Fact]
    [Trait("Rule", "R9.1")]
    public void A_hard_bounce_quarantines_at_once()
    {
        var fromValid = Apply(Valid, Event(AddressEventKind.HardBounce, T0, FailureReason.UserUnknown));
        Assert.Equal(AddressStatus.Quarantine, fromValid.Status);
        Assert.Equal(FailureReason.UserUnknown, fromValid.Reason);
        Assert.True(fromValid.IsExcluded);

        var erroneous = Apply(Valid, Event(AddressEventKind.SoftBounce, T0, FailureReason.MailboxFull));
        Assert.Equal(AddressStatus.Quarantine, Apply(erroneous, Event(AddressEventKind.HardBounce, T0.AddMinutes(1))).Status);
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    public void A_soft_bounce_makes_the_address_Erroneous_and_counts_one_error()
    {
        var record = Apply(Valid, Event(AddressEventKind.SoftBounce, T0, FailureReason.MailboxFull));

        Assert.Equal(AddressStatus.Erroneous, record.Status);
        Assert.Equal(1, record.ErrorCount);
        Assert.Equal(T0, record.LastErrorAt);
        Assert.False(record.IsExcluded);
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    public void An_error_counts_only_a_significant_interval_after_the_last_counted_one()
    {
        var once = Apply(Valid, Event(AddressEventKind.SoftBounce, T0));

        var tooSoon = Apply(once, Event(AddressEventKind.SoftBounce, T0.AddHours(23)));
        Assert.Equal((AddressStatus.Erroneous, 1, (DateTimeOffset?)T0), (tooSoon.Status, tooSoon.ErrorCount, tooSoon.LastErrorAt));

        // Measured from the last counted error (T0), not from the ignored one at T0 + 23 h.
        var later = Apply(tooSoon, Event(AddressEventKind.SoftBounce, T0.AddHours(24)));
        Assert.Equal((2, (DateTimeOffset?)T0.AddHours(24)), (later.ErrorCount, later.LastErrorAt));
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    public void A_non_counted_error_still_makes_a_Valid_address_Erroneous()
    {
        var validWithRecentError = Valid with { LastErrorAt = T0 };

        var record = Apply(validWithRecentError, Event(AddressEventKind.SoftBounce, T0.AddHours(1)));

        Assert.Equal(AddressStatus.Erroneous, record.Status);
        Assert.Equal(0, record.ErrorCount);
    }

    [Fact]
    [Trait("Rule", "R9.3")]
    public void At_the_maximum_number_of_errors_the_address_is_quarantined()
    {
        var events = Enumerable.Range(0, 5).Select(d => Event(AddressEventKind.SoftBounce, T0.AddDays(d), FailureReason.Unreachable)).ToArray();

        var four = Apply(Valid, events[..4]);
        Assert.Equal((AddressStatus.Erroneous, 4), (four.Status, four.ErrorCount));

        var five = Apply(four, events[4]);
        Assert.Equal((AddressStatus.Quarantine, 5), (five.Status, five.ErrorCount));

        var custom = new QuarantineOptions { MaxErrors = 2, SignificantErrorInterval = TimeSpan.Zero };
        var quick = QuarantineRules.Apply(QuarantineRules.Apply(Valid, events[0], custom), events[0], custom);
        Assert.Equal(AddressStatus.Quarantine, quick.Status);
    }

    [Fact]
    [Trait("Rule", "R9.4")]
    public void A_success_resets_an_Erroneous_address_to_Valid_but_does_not_release_a_quarantine()
    {
        var erroneous = Apply(Valid, Event(AddressEventKind.SoftBounce, T0), Event(AddressEventKind.SoftBounce, T0.AddDays(1)));

        var reset = Apply(erroneous, Event(AddressEventKind.Success, T0.AddDays(2)));
        Assert.Equal(Valid, reset);

        var quarantined = Apply(Valid, Event(AddressEventKind.HardBounce, T0));
        Assert.Equal(quarantined, Apply(quarantined, Event(AddressEventKind.Success, T0.AddDays(1))));
        Assert.Equal(Valid, Apply(Valid, Event(AddressEventKind.Success, T0)));
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    public void A_complaint_puts_any_address_on_the_denylist_and_bounces_do_not_take_it_off()
    {
        var denylisted = Apply(Valid, Event(AddressEventKind.Complaint, T0));
        Assert.Equal(AddressStatus.OnDenylist, denylisted.Status);
        Assert.True(denylisted.IsExcluded);

        var quarantined = Apply(Valid, Event(AddressEventKind.HardBounce, T0));
        Assert.Equal(AddressStatus.OnDenylist, Apply(quarantined, Event(AddressEventKind.Complaint, T0.AddHours(1))).Status);

        Assert.Equal(denylisted, Apply(denylisted,
            Event(AddressEventKind.HardBounce, T0.AddDays(1)),
            Event(AddressEventKind.SoftBounce, T0.AddDays(2)),
            Event(AddressEventKind.Success, T0.AddDays(3))));
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    [Trait("Rule", "R11.2")]
    public void An_opt_out_puts_any_address_on_the_denylist_even_an_allowlisted_one()
    {
        var erroneous = Apply(Valid, Event(AddressEventKind.SoftBounce, T0, FailureReason.MailboxFull));
        var quarantined = Apply(Valid, Event(AddressEventKind.HardBounce, T0, FailureReason.UserUnknown));
        var allowlisted = Valid with { Status = AddressStatus.OnAllowlist };

        foreach (var before in new[] { Valid, erroneous, quarantined, allowlisted })
        {
            var after = Apply(before, Event(AddressEventKind.OptOut, T0.AddHours(1), FailureReason.Denylisted));
            Assert.Equal((AddressStatus.OnDenylist, FailureReason.Denylisted, before.ErrorCount), (after.Status, after.Reason.GetValueOrDefault(), after.ErrorCount));
            Assert.True(after.IsExcluded);
        }

        var denylisted = Apply(Valid, Event(AddressEventKind.OptOut, T0, FailureReason.Denylisted));
        Assert.Equal(denylisted, Apply(denylisted,
            Event(AddressEventKind.OptOut, T0.AddDays(1), FailureReason.Denylisted),
            Event(AddressEventKind.Success, T0.AddDays(2)),
            Event(AddressEventKind.HardBounce, T0.AddDays(3))));
    }

    [Fact]
    [Trait("Rule", "R9.7")]
    public void Ignored_failures_never_change_the_counter()
    {
        Assert.Equal(Valid, Apply(Valid, Event(AddressEventKind.IgnoredFailure, T0, FailureReason.NotConnected)));

        var erroneous = Apply(Valid, Event(AddressEventKind.SoftBounce, T0));
        var after = Apply(erroneous, Enumerable.Range(1, 10).Select(d => Event(AddressEventKind.IgnoredFailure, T0.AddDays(d), FailureReason.NotConnected)).ToArray());
        Assert.Equal(erroneous, after);
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    [Trait("Rule", "R9.3")]
    public void Soft_bounces_leave_a_quarantined_address_quarantined()
    {
        var quarantined = Apply(Valid, Event(AddressEventKind.HardBounce, T0, FailureReason.UserUnknown));

        Assert.Equal(quarantined, Apply(quarantined, Event(AddressEventKind.SoftBounce, T0.AddDays(2), FailureReason.MailboxFull)));
    }

    [Fact]
    [Trait("Rule", "R9")]
    public void An_allowlisted_address_ignores_bounces()
    {
        var allowlisted = Valid with { Status = AddressStatus.OnAllowlist };

        Assert.Equal(allowlisted, Apply(allowlisted,
            Event(AddressEventKind.HardBounce, T0),
            Event(AddressEventKind.SoftBounce, T0.AddDays(1))));
        Assert.False(allowlisted.IsExcluded);
    }
}
