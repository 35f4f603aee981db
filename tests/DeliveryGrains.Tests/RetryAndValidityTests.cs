using System.Diagnostics;
using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R7: retries after soft bounces, the validity period, and feedback after a final state.</summary>
public sealed class RetryAndValidityTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    private const string RetryReminder = "retry";
    private static readonly TimeSpan FastRetry = TimeSpan.FromSeconds(1);

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task A_soft_bounce_relays_a_retry_after_the_retry_period()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true, retryPeriod: FastRetry));
        var clock = Stopwatch.StartNew();

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var waiting = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(1, waiting.Attempts);
        Assert.Equal(LogPhase.AwaitingRetry, waiting.Phase);
        Assert.Contains(RetryReminder, await RemindersOf(Log(delivery, "p0")));

        var retried = await LogUntil(delivery, "p0", l => l.Attempts == 2, "the retry relayed");
        Assert.True(clock.Elapsed >= FastRetry - TimeSpan.FromMilliseconds(100), $"the retry came after {clock.Elapsed}, before the retry period");
        Assert.Equal(LogPhase.AwaitingRetry, retried.Phase);
        Assert.Equal(1, (await KpisUntil(delivery, k => k.AwaitingRetry == 1, "still awaiting the retry's outcome")).AwaitingRetry);
        await Eventually.Until(() => RemindersOf(Log(delivery, "p0")), r => r.Count == 0, "the retry reminder dropped once the retry went out");
        Assert.Equal(1, (await delivery.GetLogAsync("p1", TestData.Alice)).Attempts);
    }

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task A_soft_bounce_on_the_last_allowed_attempt_fails_at_once()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true, maxRetries: 0));

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "the message failed");
        Assert.Equal(0, kpis.AwaitingRetry);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogPhase.Failed, log.Phase);
        Assert.Equal(1, log.Attempts);
        Assert.DoesNotContain(RetryReminder, await RemindersOf(Log(delivery, "p0")));
    }

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task An_outcome_that_arrives_before_the_retry_was_relayed_is_that_retrys_outcome()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3), efs: true, retryPeriod: TimeSpan.FromHours(1), maxRetries: 1));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await FeedAsync(delivery, "p1", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await KpisUntil(delivery, k => k.AwaitingRetry == 2, "two retries scheduled");

        // p0: the retry's outcome is a success; p1: the retry (the last allowed) bounces again.
        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        await FeedAsync(delivery, "p1", FeedbackType.SoftBounce, FailureReason.Refused);

        var kpis = await KpisUntil(delivery, k => k.AwaitingRetry == 0, "no retry left");
        Assert.Equal(1, kpis.Delivered);
        Assert.Equal(1, kpis.BouncesAndErrors);
        var delivered = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Sent, delivered.Status);
        Assert.Equal(2, delivered.Attempts);
        var failed = await delivery.GetLogAsync("p1", TestData.Alice);
        Assert.Equal(LogStatus.Failed, failed.Status);
        Assert.Equal(FailureReason.Refused, failed.FailureReason);
        Assert.Equal(2, failed.Attempts);
        Assert.Empty(await RemindersOf(Log(delivery, "p0")));
        Assert.Empty(await RemindersOf(Log(delivery, "p1")));
    }

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task A_retry_whose_outcome_comes_while_it_is_handed_over_leaves_the_next_retry_due()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(1), efs: true, retryPeriod: FastRetry, maxRetries: 3));
        var hold = RelayGate.Hold(delivery.GetPrimaryKeyString(), passing: 1);
        await delivery.ConfirmSendAsync(TestData.Alice);
        await KpisUntil(delivery, k => k.Sent == 1, "the first attempt relayed");
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        // The first retry is held at the MTA's door; its outcome, another soft bounce, comes meanwhile
        // and counts the attempt: the log now awaits a second retry, which has not gone out. The
        // outcome goes to the partition as the simulator's do, not through the log's grain, which is
        // busy with the held retry when its reminder was the one to relay it.
        await hold.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var partition = Grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(delivery.GetPrimaryKeyString(), 0));
        Assert.Empty(await partition.ApplyFeedbackAsync([new LogFeedback(0, [new FeedbackEvent(
            Guid.NewGuid().ToString("N"), delivery.GetPrimaryKeyString(), "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull, DateTimeOffset.UtcNow)])]));
        Assert.Equal((LogPhase.AwaitingRetry, 2), await AttemptsOf(delivery));
        hold.Release();

        // The held relay ends without taking the second retry for itself: the second retry still goes out.
        await LogUntil(delivery, "p0", l => l.Attempts == 3, "the second retry relayed");
        Assert.Equal(3, hold.Passed);
        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        var kpis = await KpisUntil(delivery, k => k.Delivered == 1, "the second retry delivered");
        Assert.Equal(0, kpis.AwaitingRetry);
    }

    private static async Task<(LogPhase, int)> AttemptsOf(IDeliveryGrain delivery)
    {
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        return (log.Phase, log.Attempts);
    }

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task A_scheduled_retry_survives_the_deactivation_of_its_log()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true, retryPeriod: FastRetry));
        var log = Log(delivery, "p0");
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.Unreachable);

        await Cluster.DeactivateAsync(log);
        Assert.False(Cluster.TryGetGrainContext(log.GetGrainId(), out _), "the log grain is deactivated");

        // Watch the reminder table, not the grain: the reminder itself must wake the log and relay the retry.
        await Eventually.Until(() => RemindersOf(log), r => r.Count == 0, "the reminder fired and the retry went out");
        var retried = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(2, retried.Attempts);
        Assert.Equal(LogPhase.AwaitingRetry, retried.Phase);

        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        await KpisUntil(delivery, k => k.Delivered == 1 && k.AwaitingRetry == 0, "the retry delivered");
    }

    [Fact]
    [Trait("Rule", "R7.2")]
    [Trait("Rule", "R7.3")]
    public async Task The_validity_period_ends_on_time_after_the_delivery_grain_was_deactivated()
    {
        var validity = TimeSpan.FromSeconds(3);
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3), efs: true, validity: validity));
        var started = await ViewUntil(delivery, v => v.Kpis.Sent == 3, "every message relayed");
        Assert.Contains("validity", await RemindersOf(delivery));

        await Cluster.DeactivateAsync(delivery);
        Assert.False(Cluster.TryGetGrainContext(delivery.GetGrainId(), out _), "the delivery grain is deactivated");

        // Only the validity reminder can wake the delivery now: nothing else calls it.
        await Eventually.Until(() => RemindersOf(delivery), r => r.Count == 0, "the reminder woke the delivery and it finished", TimeSpan.FromSeconds(15));
        var finished = await delivery.GetViewAsync();
        Assert.Equal(DeliveryStatus.Finished, finished.Status);
        Assert.True(DateTimeOffset.UtcNow >= started.ValidUntil, "finished no earlier than the end of the validity period");
        Assert.Equal(3, finished.Kpis.BouncesAndErrors);
        Assert.Equal(0, finished.Kpis.Pending);
        Assert.Equal(FailureReason.Expired, (await delivery.GetLogAsync("p0", TestData.Alice)).FailureReason);
    }

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task No_retry_is_scheduled_after_the_end_of_the_validity_period()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true,
            validity: TimeSpan.FromHours(1), retryPeriod: TimeSpan.FromHours(2)));

        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "the message failed");
        Assert.Equal(0, kpis.AwaitingRetry);
        Assert.Equal(LogPhase.Failed, (await delivery.GetLogAsync("p0", TestData.Alice)).Phase);
        Assert.Empty(await RemindersOf(Log(delivery, "p0")));
    }

    [Fact]
    [Trait("Rule", "R7.2")]
    public async Task A_validity_period_longer_than_3_5_days_is_capped_and_the_response_says_so()
    {
        var view = await Delivery(TestData.NewDeliveryId()).CreateAsync(TestData.Definition(validity: TimeSpan.FromDays(5)), TestData.Alice);

        Assert.Equal(TimeSpan.Parse("3.12:00:00", System.Globalization.CultureInfo.InvariantCulture), view.ValidityPeriod);
        var warning = Assert.Single(view.Warnings);
        Assert.Contains("capped", warning, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("validityPeriod", warning, StringComparison.Ordinal);

        var exact = await Delivery(TestData.NewDeliveryId()).CreateAsync(TestData.Definition(validity: TimeSpan.FromDays(3.5)), TestData.Alice);
        Assert.Equal(TimeSpan.FromDays(3.5), exact.ValidityPeriod);
        Assert.Empty(exact.Warnings);
    }

    [Fact]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R6.6")]
    [Trait("Rule", "R8.8")]
    public async Task At_the_end_of_validity_with_EFS_waiting_messages_fail_and_the_delivery_is_Finished()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(5), efs: true,
            validity: TimeSpan.FromSeconds(4), retryPeriod: FastRetry));
        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        await FeedAsync(delivery, "p1", FeedbackType.HardBounce, FailureReason.UserUnknown);
        await FeedAsync(delivery, "p2", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await FeedAsync(delivery, "p4", FeedbackType.Open);
        await LogUntil(delivery, "p2", l => l.Attempts == 2, "the retry relayed before the end");

        var finished = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Finished, "Finished at the end of the validity period");

        var kpis = finished.Kpis;
        Assert.Equal(5, kpis.Sent);
        Assert.Equal(1, kpis.Delivered);
        Assert.Equal(4, kpis.BouncesAndErrors);
        Assert.Equal(0, kpis.Pending);
        Assert.Equal(0, kpis.AwaitingRetry);
        Assert.True(kpis.Settled);
        Assert.Equal(LogStatus.Sent, (await delivery.GetLogAsync("p0", TestData.Alice)).Status);
        var retried = await delivery.GetLogAsync("p2", TestData.Alice);
        Assert.Equal((LogStatus.Failed, LogPhase.Failed, FailureReason.MailboxFull), (retried.Status, retried.Phase, retried.FailureReason));
        foreach (var pending in new[] { "p3", "p4" })
        {
            var expired = await delivery.GetLogAsync(pending, TestData.Alice);
            Assert.Equal(LogStatus.Failed, expired.Status);
            Assert.Equal(FailureReason.Expired, expired.FailureReason);
            Assert.Equal(FailureType.Ignored, expired.FailureType);
        }

        Assert.Empty(await RemindersOf(Log(delivery, "p2")));
        Assert.Equal(RunningFigures(kpis), RunningFigures(await delivery.ComputeStatsAsync(TestData.Alice)));
    }

    [Fact]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R5.5")]
    public async Task At_the_end_of_validity_without_EFS_a_message_awaiting_its_retry_fails()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2),
            validity: TimeSpan.FromSeconds(3), retryPeriod: FastRetry));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.Unreachable);
        await LogUntil(delivery, "p0", l => l.Attempts == 2, "the retry relayed before the end");

        var finished = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Finished, "Finished at the end of the validity period");

        Assert.Equal(1, finished.Kpis.Delivered);
        Assert.Equal(50, finished.Kpis.DeliveredRate);
        Assert.Equal(1, finished.Kpis.BouncesAndErrors);
        Assert.Equal(0, finished.Kpis.AwaitingRetry);
        Assert.Equal(LogStatus.Failed, (await delivery.GetLogAsync("p0", TestData.Alice)).Status);
        var untouched = await delivery.GetLogAsync("p1", TestData.Alice);
        Assert.Equal(LogStatus.Sent, untouched.Status);
        Assert.Null(untouched.FailureReason);
    }

    [Fact]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R8.1")]
    public async Task When_validity_ends_before_every_message_was_relayed_the_rest_stay_ToDeliver()
    {
        const int Target = 2000;
        var delivery = await PrepareAsync(TestData.Definition(
            generated: new GeneratedTarget(Target, 3, $"{Unique.Id()}.test"), efs: true, validity: TimeSpan.FromMilliseconds(1)));

        await delivery.ConfirmSendAsync(TestData.Alice);
        var finished = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Finished, "Finished right away", TimeSpan.FromSeconds(20));

        var kpis = finished.Kpis;
        Assert.Equal(Target, kpis.ToDeliver);
        Assert.InRange(kpis.Sent, 0, Target - 1);
        Assert.Equal(0, kpis.Pending);
        Assert.Equal(kpis.Sent, kpis.BouncesAndErrors);  // every relayed message expired without an outcome
        Assert.False(kpis.Settled);

        var unsent = 0L;
        string? cursor = null;
        do
        {
            var page = await delivery.ListLogsAsync(new LogQuery(LogStatus.ToDeliver, cursor, 500), TestData.Alice);
            Assert.All(page.Items, l => Assert.Equal((0, (DateTimeOffset?)null), (l.Attempts, l.RelayedAt)));
            unsent += page.Items.Count;
            cursor = page.Next;
        }
        while (cursor is not null);

        Assert.Equal(Target - kpis.Sent, unsent);
        Assert.Equal(RunningFigures(kpis), RunningFigures(await delivery.ComputeStatsAsync(TestData.Alice)));
    }

    [Fact]
    [Trait("Rule", "R7.4")]
    public async Task Feedback_after_a_final_state_changes_nothing_but_opens_and_clicks()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true));
        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        await FeedAsync(delivery, "p1", FeedbackType.HardBounce, FailureReason.UserUnknown);
        var before = await KpisUntil(delivery, k => k.Delivered == 1 && k.BouncesAndErrors == 1, "both final");

        Assert.Equal(FeedbackOutcome.Accepted, await FeedAsync(delivery, "p0", FeedbackType.HardBounce, FailureReason.UserUnknown));
        Assert.Equal(FeedbackOutcome.Accepted, await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull));
        Assert.Equal(FeedbackOutcome.Accepted, await FeedAsync(delivery, "p1", FeedbackType.Delivered));
        Assert.Equal(FeedbackOutcome.Accepted, await FeedAsync(delivery, "p1", FeedbackType.SoftBounce, FailureReason.MailboxFull));
        await FeedAsync(delivery, "p0", FeedbackType.Click);

        var afterStats = await delivery.ComputeStatsAsync(TestData.Alice);
        Assert.Equal(RunningFigures(before), RunningFigures(afterStats));
        Assert.Equal(1, afterStats.Opens);
        Assert.Equal(1, afterStats.Clicks);
        var p0 = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal((LogStatus.Sent, (FailureType?)null, 1), (p0.Status, p0.FailureType, p0.Attempts));
        Assert.True(p0.Opened && p0.Clicked);
        var p1 = await delivery.GetLogAsync("p1", TestData.Alice);
        Assert.Equal((LogStatus.Failed, FailureType.Hard, FailureReason.UserUnknown), (p1.Status, p1.FailureType.GetValueOrDefault(), p1.FailureReason.GetValueOrDefault()));
        Assert.Empty(await RemindersOf(Log(delivery, "p1")));
    }

    [Fact]
    [Trait("Rule", "R7.4")]
    [Trait("Rule", "R9.5")]
    public async Task A_complaint_after_a_final_state_still_puts_the_address_on_the_denylist()
    {
        var address = Unique.Email("complainer");
        var delivery = await StartAsync(TestData.Definition([new("c", address)], efs: true));
        await FeedAsync(delivery, "c", FeedbackType.Delivered);
        await KpisUntil(delivery, k => k.Delivered == 1, "delivered");

        await FeedAsync(delivery, "c", FeedbackType.Complaint);

        await AddressUntil(address, r => r.Status == AddressStatus.OnDenylist, "the address on the denylist");
        Assert.Equal(LogStatus.Sent, (await delivery.GetLogAsync("c", TestData.Alice)).Status);
    }

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R7.4")]
    public async Task An_event_id_seen_before_is_a_duplicate_and_changes_nothing()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true, retryPeriod: TimeSpan.FromHours(1)));
        var eventId = Guid.NewGuid().ToString("N");
        Assert.Equal(FeedbackOutcome.Accepted, await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull, eventId));
        var before = await KpisUntil(delivery, k => k.AwaitingRetry == 1, "one retry scheduled");

        Assert.Equal(FeedbackOutcome.Duplicate, await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull, eventId));
        Assert.Equal(FeedbackOutcome.Duplicate, await FeedAsync(delivery, "p0", FeedbackType.Delivered, null, eventId));

        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal((LogPhase.AwaitingRetry, 1, FailureReason.MailboxFull), (log.Phase, log.Attempts, log.FailureReason.GetValueOrDefault()));
        Assert.Equal(RunningFigures(before), RunningFigures(await delivery.ComputeStatsAsync(TestData.Alice)));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Feedback_for_a_message_never_relayed_is_not_found()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(1)));

        await Assert.ThrowsAsync<NotFoundException>(() => FeedAsync(delivery, "p0", FeedbackType.Delivered));
        Assert.Equal(LogStatus.ToDeliver, (await delivery.GetLogAsync("p0", TestData.Alice)).Status);
    }
}
