using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R8: the Deployment block, its formulas, publication of tracking figures and Compute stats.</summary>
public sealed class KpiTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R8.1")]
    [Trait("Rule", "R8.2")]
    [Trait("Rule", "R8.3")]
    [Trait("Rule", "R8.4")]
    [Trait("Rule", "R4")]
    public async Task The_KPIs_follow_their_formulas_with_EFS()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(5), efs: true, retryPeriod: TimeSpan.FromHours(1)));
        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        await FeedAsync(delivery, "p0", FeedbackType.Click);
        await FeedAsync(delivery, "p1", FeedbackType.Delivered);
        await FeedAsync(delivery, "p1", FeedbackType.Open);
        await FeedAsync(delivery, "p2", FeedbackType.HardBounce, FailureReason.UserUnknown);
        await FeedAsync(delivery, "p3", FeedbackType.SoftBounce, FailureReason.MailboxFull);

        var running = await KpisUntil(delivery, k => k.Delivered == 2 && k.BouncesAndErrors == 2, "2 delivered, 2 bounces");
        Assert.Equal(5, running.ToDeliver);
        Assert.Equal(5, running.Sent);
        Assert.Equal(1.0, running.Progress);
        Assert.Equal(40, running.DeliveredRate);
        Assert.Equal(40, running.BouncesAndErrorsRate);
        Assert.Equal(1, running.Pending);
        Assert.Equal(1, running.AwaitingRetry);
        Assert.Equal(running.Sent, running.Delivered + running.BouncesAndErrors + running.Pending);

        // The Reports section's bounces by type and reason are the same logs, grouped (R4, R6.4).
        var bounces = await delivery.GetBouncesAsync();
        Assert.Equal(
            [new BounceCount(FailureType.Hard, FailureReason.UserUnknown, 1), new BounceCount(FailureType.Soft, FailureReason.MailboxFull, 1)],
            bounces);
        Assert.Equal(running.BouncesAndErrors, bounces.Sum(b => b.Count));

        var stats = await delivery.ComputeStatsAsync(TestData.Alice);
        Assert.Equal(2, stats.Opens);         // a click counts as an open
        Assert.Equal(100, stats.OpenRate);    // opens / delivered
        Assert.Equal(1, stats.Clicks);
        Assert.Equal(50, stats.ClickThroughRate);
    }

    [Fact]
    [Trait("Rule", "R8.1")]
    [Trait("Rule", "R5.1")]
    public async Task Without_EFS_delivered_plus_bounces_equals_sent()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(8), retryPeriod: TimeSpan.FromHours(1)));
        await FeedAsync(delivery, "p0", FeedbackType.HardBounce, FailureReason.UserUnknown);
        await FeedAsync(delivery, "p1", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await FeedAsync(delivery, "p2", FeedbackType.Delivered);

        var kpis = await KpisUntil(delivery, k => k.BouncesAndErrors == 1 && k.AwaitingRetry == 1, "one bounce, one retry");
        Assert.Equal(8, kpis.Sent);
        Assert.Equal(7, kpis.Delivered);
        Assert.Equal(kpis.Sent, kpis.Delivered + kpis.BouncesAndErrors);
        Assert.Equal(0, kpis.Pending);
        Assert.Equal(87.5, kpis.DeliveredRate);
        Assert.Equal(12.5, kpis.BouncesAndErrorsRate);
    }

    [Fact]
    [Trait("Rule", "R8.6")]
    public async Task A_rate_over_a_zero_denominator_is_zero()
    {
        var ready = await PrepareAsync(TestData.Definition(TestData.Recipients(3)));
        var notSent = (await ready.GetViewAsync()).Kpis;
        Assert.Equal((3L, 0L), (notSent.ToDeliver, notSent.Sent));
        Assert.Equal((0.0, 0.0, 0.0, 0.0, 0.0), (notSent.DeliveredRate, notSent.BouncesAndErrorsRate, notSent.OpenRate, notSent.ClickThroughRate, notSent.Progress));

        // Opened but not (yet) delivered: opens are a part of the delivered (R8.4), so none count yet
        // and every rate is over zero delivered; the open counts once the MTA reports the delivery.
        var efs = await StartAsync(TestData.Definition(TestData.Recipients(2), efs: true));
        await FeedAsync(efs, "p0", FeedbackType.Click);
        await efs.ComputeStatsAsync(TestData.Alice);
        var opened = (await efs.GetViewAsync()).Kpis;
        Assert.Equal((0L, 0L, 0L), (opened.Opens, opened.Clicks, opened.Delivered));
        Assert.Equal((0.0, 0.0, 0.0), (opened.OpenRate, opened.ClickThroughRate, opened.DeliveredRate));
        await FeedAsync(efs, "p0", FeedbackType.Delivered);
        await efs.ComputeStatsAsync(TestData.Alice);
        var delivered = (await efs.GetViewAsync()).Kpis;
        Assert.Equal((1L, 1L, 1L), (delivered.Opens, delivered.Clicks, delivered.Delivered));
        Assert.Equal((100.0, 100.0), (delivered.OpenRate, delivered.ClickThroughRate));

        // Nothing to deliver at all.
        var empty = await StartAsync(TestData.Definition([new("none", "")]));
        var nothing = (await empty.GetViewAsync()).Kpis;
        Assert.Equal((0L, 0L), (nothing.ToDeliver, nothing.Sent));
        Assert.Equal((0.0, 0.0, 0.0), (nothing.DeliveredRate, nothing.BouncesAndErrorsRate, nothing.Progress));
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task Opens_and_clicks_are_not_published_before_Compute_stats()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3), efs: true));
        await FeedAsync(delivery, "p0", FeedbackType.Open);
        await FeedAsync(delivery, "p0", FeedbackType.Click);
        await FeedAsync(delivery, "p0", FeedbackType.Delivered);

        // The delivered count travels in the same flush as the open and click marks (reported before it).
        var running = await KpisUntil(delivery, k => k.Delivered == 1, "the delivery counted");
        Assert.Equal((0L, 0L), (running.Opens, running.Clicks));

        var stats = await delivery.ComputeStatsAsync(TestData.Alice);
        Assert.Equal((1L, 1L), (stats.Opens, stats.Clicks));
        Assert.Equal((1L, 1L), ((await delivery.GetViewAsync()).Kpis.Opens, (await delivery.GetViewAsync()).Kpis.Clicks));

        // A later open waits for the next publication again.
        await FeedAsync(delivery, "p1", FeedbackType.Open);
        await FeedAsync(delivery, "p1", FeedbackType.Delivered);
        var later = await KpisUntil(delivery, k => k.Delivered == 2, "the second delivery counted");
        Assert.Equal(1, later.Opens);
        Assert.Equal(2, (await delivery.ComputeStatsAsync(TestData.Alice)).Opens);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Compute_stats_equals_the_running_KPIs_over_several_partitions()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(40), efs: true, retryPeriod: TimeSpan.FromHours(1)));
        for (var i = 0; i < 30; i++)
        {
            var (type, reason) = (i % 3) switch
            {
                0 => (FeedbackType.Delivered, (FailureReason?)null),
                1 => (FeedbackType.HardBounce, FailureReason.UserUnknown),
                _ => (FeedbackType.SoftBounce, FailureReason.MailboxFull),
            };
            await FeedAsync(delivery, $"p{i}", type, reason);
        }

        var running = await KpisUntil(delivery, k => k.Delivered == 10 && k.BouncesAndErrors == 20 && k.AwaitingRetry == 10, "all 30 outcomes counted");
        var stats = await delivery.ComputeStatsAsync(TestData.Alice);

        Assert.Equal(RunningFigures(running), RunningFigures(stats));
        Assert.Equal((10L, 20L, 10L, 10L), (stats.Delivered, stats.BouncesAndErrors, stats.Pending, stats.AwaitingRetry));
        Assert.Equal(Figures(stats), Figures((await delivery.GetViewAsync()).Kpis));
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Compute_stats_repairs_drift_in_the_running_figures_of_a_sending_delivery()
    {
        var definition = TestData.Definition(TestData.Recipients(20), efs: true);
        var delivery = await StartAsync(definition);
        var truth = (await delivery.GetViewAsync()).Kpis;
        var (partition, size) = Locate(definition, "p7");

        // A bogus report numbered past any the partition will send: its messages are all Pending, the
        // delivery is told one of them was delivered and opened.
        await delivery.ReportPartitionCountsAsync(partition, new PartitionCounts(
            long.MaxValue / 2, ToDeliver: 0, AwaitingOutcome: size - 1, AwaitingRetry: 0, Delivered: 1, Failed: 0, Opened: 1, Clicked: 0));
        var drifted = await KpisUntil(delivery, k => k.Delivered == 1, "the drift visible in the running KPIs");
        Assert.Equal(19, drifted.Pending);

        var repaired = await delivery.ComputeStatsAsync(TestData.Alice);

        Assert.Equal(RunningFigures(truth), RunningFigures(repaired));
        Assert.Equal((0L, 20L, 0L), (repaired.Delivered, repaired.Pending, repaired.Opens));
        Assert.Equal(Figures(repaired), Figures((await delivery.GetViewAsync()).Kpis));
        Assert.Equal(LogStatus.Pending, (await delivery.GetLogAsync("p7", TestData.Alice)).Status);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Compute_stats_repairs_drift_on_messages_not_relayed_yet()
    {
        var definition = TestData.Definition(TestData.Recipients(20));
        var delivery = await PrepareAsync(definition);
        var (partition, size) = Locate(definition, "p3");

        await delivery.ReportPartitionCountsAsync(partition, new PartitionCounts(
            long.MaxValue / 2, ToDeliver: size - 1, AwaitingOutcome: 0, AwaitingRetry: 0, Delivered: 0, Failed: 1, Opened: 0, Clicked: 0));
        var drifted = await KpisUntil(delivery, k => k.BouncesAndErrors == 1, "the drift visible in the running KPIs");
        Assert.Equal(1, drifted.Sent);

        var repaired = await delivery.ComputeStatsAsync(TestData.Alice);

        Assert.Equal((20L, 0L, 0L), (repaired.ToDeliver, repaired.Sent, repaired.BouncesAndErrors));
        Assert.Equal(LogStatus.ToDeliver, (await delivery.GetLogAsync("p3", TestData.Alice)).Status);

        // The repaired delivery still sends every message once.
        await delivery.ConfirmSendAsync(TestData.Alice);
        var sent = await KpisUntil(delivery, k => k.Sent == 20, "every message relayed");
        Assert.Equal((20L, 0L), (sent.Delivered, sent.BouncesAndErrors));
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    [Trait("Rule", "R8.5")]
    public async Task Compute_stats_while_feedback_arrives_loses_no_transition()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(200), efs: true));

        // Outcomes reach the partitions while they recount.
        for (var round = 0; round < 10; round++)
        {
            var recount = delivery.ComputeStatsAsync(TestData.Alice);
            await Task.WhenAll(Enumerable.Range(round * 20, 20).Select(i => FeedAsync(delivery, $"p{i}", FeedbackType.Delivered)));
            await recount;
        }

        var running = await KpisUntil(delivery, k => k.Delivered == 200, "every outcome in the running KPIs");
        Assert.Equal(0, running.Pending);
        Assert.True(running.Settled);
    }

    [Fact]
    [Trait("Rule", "R8.8")]
    public async Task A_delivery_has_settled_when_nothing_is_pending_or_awaiting_a_retry()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3), efs: true, retryPeriod: TimeSpan.FromHours(1)));
        Assert.False((await delivery.GetViewAsync()).Kpis.Settled);

        await FeedAsync(delivery, "p0", FeedbackType.Delivered);
        await FeedAsync(delivery, "p1", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await FeedAsync(delivery, "p2", FeedbackType.HardBounce, FailureReason.UserUnknown);
        var waiting = await KpisUntil(delivery, k => k.Pending == 0 && k.AwaitingRetry == 1, "only the retry left");
        Assert.False(waiting.Settled);

        await FeedAsync(delivery, "p1", FeedbackType.Delivered);
        var settled = await KpisUntil(delivery, k => k.AwaitingRetry == 0, "the retry delivered");
        Assert.True(settled.Settled);
        Assert.Equal((2L, 1L), (settled.Delivered, settled.BouncesAndErrors));
    }

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R8.4")]
    public async Task Sms_deliveries_have_no_opens_or_clicks()
    {
        var delivery = await StartAsync(TestData.Definition([new("s0", "+3361" + Random.Shared.Next(1_000_000, 9_999_999))], efs: true, channel: Channel.Sms));
        await FeedAsync(delivery, "s0", FeedbackType.Delivered);
        await FeedAsync(delivery, "s0", FeedbackType.Click);
        await KpisUntil(delivery, k => k.Delivered == 1, "delivered");

        var stats = await delivery.ComputeStatsAsync(TestData.Alice);

        Assert.Equal((0L, 0L, 0.0, 0.0), (stats.Opens, stats.Clicks, stats.OpenRate, stats.ClickThroughRate));
        Assert.Equal(100, stats.DeliveredRate);
    }

    /// <summary>The partition holding <paramref name="profileId"/> and how many recipients it holds.</summary>
    private static (int Partition, int Size) Locate(DeliveryDefinition definition, string profileId)
    {
        var resolution = TargetResolution.Resolve(definition, ClusterFixture.PartitionSize);
        for (var p = 0; p < resolution.PartitionCount; p++)
        {
            var candidates = resolution.Candidates(p);
            if (candidates.Any(r => r.ProfileId == profileId))
            {
                return (p, candidates.Count);
            }
        }

        throw new InvalidOperationException($"{profileId} is not in the target.");
    }
}
