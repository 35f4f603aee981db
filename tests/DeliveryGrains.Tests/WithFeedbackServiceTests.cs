using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R6, row by row: with the Email Feedback Service a message is Pending until the MTA reports its outcome.</summary>
public sealed class WithFeedbackServiceTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    private static readonly TimeSpan FastRetry = TimeSpan.FromSeconds(1);

    [Fact]
    [Trait("Rule", "R6.1")]
    [Trait("Rule", "R8.8")]
    public async Task Relayed_messages_are_Pending_and_both_rates_start_at_0()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), efs: true));

        var kpis = (await delivery.GetViewAsync()).Kpis;
        Assert.Equal(4, kpis.Sent);
        Assert.Equal(4, kpis.Pending);
        Assert.Equal(0, kpis.Delivered);
        Assert.Equal(0, kpis.DeliveredRate);
        Assert.Equal(0, kpis.BouncesAndErrors);
        Assert.Equal(0, kpis.BouncesAndErrorsRate);
        Assert.False(kpis.Settled);
        Assert.Equal(LogStatus.Pending, (await delivery.GetLogAsync("p0", TestData.Alice)).Status);
    }

    [Fact]
    [Trait("Rule", "R6.2")]
    public async Task A_delivered_report_makes_the_message_Sent_and_Delivered_goes_up()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), efs: true));

        await FeedAsync(delivery, "p0", FeedbackType.Delivered);

        var kpis = await KpisUntil(delivery, k => k.Delivered == 1, "one delivered");
        Assert.Equal(25, kpis.DeliveredRate);
        Assert.Equal(0, kpis.BouncesAndErrors);
        Assert.Equal(3, kpis.Pending);
        Assert.Equal(LogStatus.Sent, (await delivery.GetLogAsync("p0", TestData.Alice)).Status);
    }

    [Fact]
    [Trait("Rule", "R6.3")]
    public async Task A_hard_bounce_fails_the_message_Delivered_unchanged_and_bounces_up()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), efs: true));

        await FeedAsync(delivery, "p0", FeedbackType.HardBounce, FailureReason.UserUnknown);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "one bounce");
        Assert.Equal(0, kpis.Delivered);
        Assert.Equal(0, kpis.DeliveredRate);
        Assert.Equal(25, kpis.BouncesAndErrorsRate);
        Assert.Equal(3, kpis.Pending);
        Assert.Equal(0, kpis.AwaitingRetry);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Failed, log.Status);
        Assert.Equal(FailureType.Hard, log.FailureType);
    }

    [Fact]
    [Trait("Rule", "R6.4")]
    public async Task A_soft_bounce_shows_Failed_Delivered_unchanged_and_bounces_up()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), efs: true));

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "one bounce");
        Assert.Equal(0, kpis.Delivered);
        Assert.Equal(25, kpis.BouncesAndErrorsRate);
        Assert.Equal(1, kpis.AwaitingRetry);
        Assert.Equal(3, kpis.Pending);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Failed, log.Status);
        Assert.Equal(LogPhase.AwaitingRetry, log.Phase);
        Assert.Equal(FailureType.Soft, log.FailureType);
        Assert.Equal(FailureReason.MailboxFull, log.FailureReason);
    }

    [Fact]
    [Trait("Rule", "R6.5")]
    [Trait("Rule", "R7.1")]
    public async Task A_retry_that_succeeds_makes_the_message_Sent_Delivered_up_and_bounces_down()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), efs: true, retryPeriod: FastRetry));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await LogUntil(delivery, "p0", l => l.Attempts == 2, "the retry relayed");
        var before = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "the soft bounce counted");

        await FeedAsync(delivery, "p0", FeedbackType.Delivered);

        var kpis = await KpisUntil(delivery, k => k.Delivered == 1, "the retry delivered");
        Assert.Equal(before.BouncesAndErrors - 1, kpis.BouncesAndErrors);
        Assert.Equal(0, kpis.BouncesAndErrorsRate);
        Assert.Equal(25, kpis.DeliveredRate);
        Assert.Equal(0, kpis.AwaitingRetry);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Sent, log.Status);
        Assert.Equal(2, log.Attempts);
    }

    [Fact]
    [Trait("Rule", "R6.6")]
    [Trait("Rule", "R7.1")]
    public async Task A_retry_that_fails_stays_Failed_with_the_rates_unchanged()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(4), efs: true, retryPeriod: FastRetry, maxRetries: 1));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await LogUntil(delivery, "p0", l => l.Attempts == 2, "the retry relayed");
        var before = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "the soft bounce counted");

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.Refused);

        var kpis = await KpisUntil(delivery, k => k.AwaitingRetry == 0, "no retry left");
        Assert.Equal(before.Delivered, kpis.Delivered);
        Assert.Equal(before.BouncesAndErrors, kpis.BouncesAndErrors);
        Assert.Equal(before.BouncesAndErrorsRate, kpis.BouncesAndErrorsRate);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Failed, log.Status);
        Assert.Equal(LogPhase.Failed, log.Phase);
        Assert.Equal(FailureReason.Refused, log.FailureReason);
        Assert.Equal(2, log.Attempts);
    }
}
