using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R5, row by row: without the Email Feedback Service a relayed message counts as delivered until a bounce says otherwise.</summary>
public sealed class WithoutFeedbackServiceTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    private static readonly TimeSpan FastRetry = TimeSpan.FromSeconds(1);

    [Fact]
    [Trait("Rule", "R5.1")]
    [Trait("Rule", "R8.1")]
    public async Task Relayed_messages_are_Sent_and_Delivered_starts_at_100_percent()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4)));

        var kpis = (await delivery.GetViewAsync()).Kpis;
        Assert.Equal(4, kpis.Sent);
        Assert.Equal(4, kpis.Delivered);
        Assert.Equal(100, kpis.DeliveredRate);
        Assert.Equal(0, kpis.BouncesAndErrors);
        Assert.Equal(0, kpis.BouncesAndErrorsRate);
        Assert.Equal(0, kpis.Pending);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Sent, log.Status);
        Assert.Equal(1, log.Attempts);
        Assert.NotNull(log.RelayedAt);
        Assert.Null(log.FailureType);
    }

    [Fact]
    [Trait("Rule", "R5.2")]
    [Trait("Rule", "R4")]
    public async Task A_hard_bounce_fails_the_message_and_moves_Delivered_down_and_bounces_up()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4)));

        await FeedAsync(delivery, "p0", FeedbackType.HardBounce, FailureReason.UserUnknown);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "one bounce counted");
        Assert.Equal(3, kpis.Delivered);
        Assert.Equal(75, kpis.DeliveredRate);
        Assert.Equal(25, kpis.BouncesAndErrorsRate);
        Assert.Equal(kpis.Sent, kpis.Delivered + kpis.BouncesAndErrors);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Failed, log.Status);
        Assert.Equal(FailureType.Hard, log.FailureType);
        Assert.Equal(FailureReason.UserUnknown, log.FailureReason);
    }

    [Fact]
    [Trait("Rule", "R5.3")]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R8.8")]
    public async Task A_soft_bounce_leaves_the_message_Sent_and_the_rates_unchanged()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4)));

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var kpis = await KpisUntil(delivery, k => k.AwaitingRetry == 1, "one message awaiting its retry");
        Assert.Equal(4, kpis.Delivered);
        Assert.Equal(100, kpis.DeliveredRate);
        Assert.Equal(0, kpis.BouncesAndErrors);
        Assert.False(kpis.Settled);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Sent, log.Status);
        Assert.Equal(LogPhase.AwaitingRetry, log.Phase);
        Assert.Equal(FailureType.Soft, log.FailureType);
        Assert.Equal(FailureReason.MailboxFull, log.FailureReason);
    }

    [Fact]
    [Trait("Rule", "R5.4")]
    [Trait("Rule", "R7.1")]
    public async Task A_retry_that_succeeds_leaves_the_message_Sent_and_the_rates_unchanged()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), retryPeriod: FastRetry));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.Unreachable);
        await LogUntil(delivery, "p0", l => l.Attempts == 2, "the retry relayed");
        var during = (await delivery.GetViewAsync()).Kpis;

        await FeedAsync(delivery, "p0", FeedbackType.Delivered);

        var kpis = await KpisUntil(delivery, k => k.AwaitingRetry == 0, "no retry waiting");
        Assert.Equal(during.Delivered, kpis.Delivered);
        Assert.Equal(100, kpis.DeliveredRate);
        Assert.Equal(0, kpis.BouncesAndErrors);
        Assert.True(kpis.Settled);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Sent, log.Status);
        Assert.Equal(LogPhase.Delivered, log.Phase);
        Assert.Equal(2, log.Attempts);
        Assert.Null(log.FailureType);
    }

    [Fact]
    [Trait("Rule", "R5.5")]
    [Trait("Rule", "R7.1")]
    public async Task A_retry_that_fails_when_retries_are_exhausted_fails_the_message()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), retryPeriod: FastRetry, maxRetries: 1));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await LogUntil(delivery, "p0", l => l.Attempts == 2, "the retry relayed");

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "the message failed for good");
        Assert.Equal(3, kpis.Delivered);
        Assert.Equal(75, kpis.DeliveredRate);
        Assert.Equal(25, kpis.BouncesAndErrorsRate);
        Assert.Equal(0, kpis.AwaitingRetry);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Failed, log.Status);
        Assert.Equal(FailureType.Soft, log.FailureType);
        Assert.Equal(2, log.Attempts);
    }

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R9.7")]
    public async Task The_failure_type_follows_the_event_and_the_reason_is_kept_as_given()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3), maxRetries: 0));

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.NotConnected);
        await FeedAsync(delivery, "p1", FeedbackType.HardBounce);
        await FeedAsync(delivery, "p2", FeedbackType.SoftBounce, FailureReason.UserUnknown);

        await KpisUntil(delivery, k => k.BouncesAndErrors == 3, "three failures");
        var ignored = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal((FailureType?)FailureType.Ignored, ignored.FailureType);
        Assert.Equal(FailureReason.NotConnected, ignored.FailureReason);
        var hard = await delivery.GetLogAsync("p1", TestData.Alice);
        Assert.Equal(FailureType.Hard, hard.FailureType);
        Assert.Equal(FailureReason.NotDefined, hard.FailureReason);
        var soft = await delivery.GetLogAsync("p2", TestData.Alice);
        Assert.Equal(FailureType.Soft, soft.FailureType);
        Assert.Equal(FailureReason.UserUnknown, soft.FailureReason);
    }
}
