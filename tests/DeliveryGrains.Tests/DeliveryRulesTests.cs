using DeliveryGrains.Deliveries;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>DeliveryRules.Validate names every bad field of a definition, with what to fix.</summary>
public sealed class DeliveryRulesTests
{
    [Fact]
    [Trait("Rule", "R2")]
    public void A_sound_definition_has_no_errors()
    {
        Assert.Empty(DeliveryRules.Validate(TestData.Definition()));
        Assert.Empty(DeliveryRules.Validate(TestData.Definition(generated: new GeneratedTarget(10, 1, "example.test"),
            mta: new MtaSettings(MtaKind.Simulated, FeedbackDelay: TimeSpan.Zero))));
    }

    [Fact]
    [Trait("Rule", "R2")]
    [Trait("Rule", "R7.1")]
    public void Every_bad_field_is_listed()
    {
        var definition = TestData.Definition(
            recipients: [new("", "a@example.test"), new("a/b", "b@example.test"), new("x", "c@example.test"), new("x", "d@example.test")],
            validity: TimeSpan.Zero,
            retryPeriod: TimeSpan.FromMinutes(-1),
            maxRetries: DeliveryRules.MaxRetriesLimit + 1,
            mta: new MtaSettings(MtaKind.Simulated, HardBounceRate: -0.1, SoftBounceRate: 1.5, RetrySuccessRate: double.NaN,
                OpenRate: 2, ClickRate: -1, FeedbackDelay: TimeSpan.FromDays(2))) with
        {
            Name = " ",
            GeneratedTarget = new GeneratedTarget(0, 1, "no-dot"),
        };

        var errors = DeliveryRules.Validate(definition);

        Assert.Equal(new[]
        {
            "name", "validityPeriod", "retryPeriod", "maxRetries",
            "recipients", "recipients[0].profileId", "recipients[1].profileId", "recipients[3].profileId",
            "generatedTarget.count", "generatedTarget.domain",
            "mta.hardBounceRate", "mta.softBounceRate", "mta.retrySuccessRate", "mta.openRate", "mta.clickRate", "mta.feedbackDelay",
        }.Order(), errors.Keys.Order());
        Assert.All(errors.Values, messages => Assert.All(messages, m => Assert.False(string.IsNullOrWhiteSpace(m))));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public void A_target_needs_exactly_one_source_and_names_have_a_limit()
    {
        var neither = TestData.Definition() with { Recipients = null, Name = new string('n', 201) };

        Assert.Equal(["name", "recipients"], DeliveryRules.Validate(neither).Keys.Order());
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    public void An_inline_target_and_its_recipients_have_named_limits()
    {
        var tooMany = TestData.Definition(recipients: [.. Enumerable.Range(0, DeliveryRules.MaxInlineRecipients + 1).Select(i => new Recipient($"p{i}", $"p{i}@example.test"))]);
        var tooLong = TestData.Definition(recipients:
        [
            new(new string('p', DeliveryRules.MaxProfileIdLength + 1), "a@example.test"),
            new("b", new string('b', DeliveryRules.MaxAddressLength) + "@example.test"),
            new("c", "c@example.test", Enumerable.Range(0, DeliveryRules.MaxFields + 1).ToDictionary(i => $"f{i}", i => "v")),
        ]);

        Assert.Contains("100,000", Assert.Single(DeliveryRules.Validate(tooMany)["recipients"]));
        Assert.Equal(["recipients[0].profileId", "recipients[1].address", "recipients[2].fields"], DeliveryRules.Validate(tooLong).Keys.Order());
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    [Trait("Rule", "R3.4")]
    [Trait("Rule", "R7.1")]
    public void Durations_dates_and_enum_numbers_out_of_their_range_are_named_with_their_bounds()
    {
        var now = new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
        var definition = TestData.Definition(retryPeriod: TimeSpan.MaxValue, mta: new MtaSettings((MtaKind)99)) with
        {
            Channel = (Channel)99,
            SendAt = now.AddYears(DeliveryRules.MaxYearsAhead).AddDays(1),
            Recurrence = new Recurrence(TimeSpan.FromDays(400), 2, (AggregationPeriod)42),
        };

        var errors = DeliveryRules.Validate(definition, now);

        Assert.Equal(["channel", "mta.kind", "recurrence.aggregationPeriod", "recurrence.every", "retryPeriod", "sendAt"], errors.Keys.Order());
        Assert.Contains("3.12:00:00", errors["retryPeriod"][0]);
        Assert.Contains("366 days", errors["recurrence.every"][0]);
        Assert.Empty(DeliveryRules.Validate(TestData.Definition(retryPeriod: DeliveryDefinition.MaxValidityPeriod) with { SendAt = now.AddYears(3) }, now));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public void Hard_and_soft_bounce_rates_together_cannot_exceed_one()
    {
        var errors = DeliveryRules.Validate(TestData.Definition(mta: new MtaSettings(MtaKind.Simulated, HardBounceRate: 0.6, SoftBounceRate: 0.6)));

        Assert.Equal(["mta.softBounceRate"], errors.Keys);
    }
}

/// <summary>The delivery grain refuses an invalid definition with every bad field named, and creates nothing.</summary>
public sealed class DeliveryValidationTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R2")]
    public async Task Creating_an_invalid_delivery_is_refused_with_every_bad_field_and_creates_nothing()
    {
        var delivery = Delivery(TestData.NewDeliveryId());
        var definition = TestData.Definition(validity: TimeSpan.Zero, maxRetries: -1) with { Name = "" };

        var refused = await Assert.ThrowsAsync<ValidationException>(() => delivery.CreateAsync(definition, TestData.Alice));

        Assert.Equal(["maxRetries", "name", "validityPeriod"], refused.Errors.Keys.Order());
        await Assert.ThrowsAsync<NotFoundException>(() => delivery.GetViewAsync());
    }
}
