using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R2 pause, resume and stop; R3.1 contact dates.</summary>
public sealed class PauseStopScheduleTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    /// <summary>25 partitions of 16 recipients in the test cluster: a fan-out held after its first messages is far from done.</summary>
    private static DeliveryDefinition Large(bool efs = false, TimeSpan? validity = null) =>
        TestData.Definition(TestData.Recipients(400), efs: efs, validity: validity);

    /// <summary>
    /// Confirms the send and pauses it while the fan-out is held after its first 20 messages, so the
    /// pause lands mid fan-out by construction; the held messages go once the delivery says Paused.
    /// </summary>
    private async Task<IDeliveryGrain> ConfirmAndPauseMidFanOutAsync(DeliveryDefinition definition)
    {
        var delivery = await PrepareAsync(definition);
        var hold = RelayGate.Hold(delivery.GetPrimaryKeyString(), passing: 20);
        await delivery.ConfirmSendAsync(TestData.Alice);
        await hold.Reached.WaitAsync(TimeSpan.FromSeconds(30));

        var pausing = delivery.PauseAsync(TestData.Alice);
        await ViewUntil(delivery, v => v.Status == DeliveryStatus.Paused, "the pause taken while the fan-out is held");
        hold.Release();
        Assert.Equal(DeliveryStatus.Paused, (await pausing).Status);
        return delivery;
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task A_paused_delivery_relays_nothing_until_resumed_then_sends_the_rest_once()
    {
        var delivery = await ConfirmAndPauseMidFanOutAsync(Large());

        // Ask a partition directly: while paused it relays nothing, whoever asks.
        var run = new DeliveryRun(delivery.GetPrimaryKeyString(), Channel.Email, false, TimeSpan.FromHours(1), 5, DateTimeOffset.UtcNow.AddHours(1), new MtaSettings(MtaKind.External));
        var before = await delivery.ComputeStatsAsync(TestData.Alice);
        for (var p = 0; p < 25; p++)
        {
            await Grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(delivery.GetPrimaryKeyString(), p)).RelayNextAsync(run, 1000);
        }

        var still = await delivery.ComputeStatsAsync(TestData.Alice);
        Assert.Equal(before.Sent, still.Sent);
        Assert.True(still.Sent < 400, $"the pause landed after the whole fan-out ({still.Sent} sent)");

        var resumed = await delivery.ResumeAsync(TestData.Alice);
        Assert.Equal(DeliveryStatus.InProgress, resumed.Status);
        var sent = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Sent && v.Kpis.Sent == 400, "the rest relayed");
        Assert.Equal(400, sent.Kpis.ToDeliver);
        var logs = await delivery.ListLogsAsync(new LogQuery(null, null, 1000), TestData.Alice);
        Assert.Equal(400, logs.Items.Count);
        Assert.All(logs.Items, l => Assert.Equal(1, l.Attempts));
    }

    [Fact]
    [Trait("Rule", "R2.6")]
    public async Task The_validity_period_keeps_running_while_paused()
    {
        var delivery = await ConfirmAndPauseMidFanOutAsync(Large(efs: true, validity: TimeSpan.FromSeconds(2)));

        var finished = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Finished, "the validity period ended while paused");

        Assert.True(finished.Kpis.Sent < 400, "unrelayed messages stay unsent");
        Assert.Equal(0, finished.Kpis.Pending);
        Assert.Equal(finished.Kpis.Sent, finished.Kpis.BouncesAndErrors);
        var unsent = await delivery.ListLogsAsync(new LogQuery(LogStatus.ToDeliver, null, 1), TestData.Alice);
        Assert.Single(unsent.Items);
        await Assert.ThrowsAsync<ConflictException>(() => delivery.ResumeAsync(TestData.Alice));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Stopping_cancels_due_retries_for_good_and_cannot_be_undone()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3), efs: true, retryPeriod: TimeSpan.FromHours(1)));
        await FeedAsync(delivery, "p0", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        await KpisUntil(delivery, k => k.AwaitingRetry == 1, "a retry is due");

        var stopped = await delivery.StopAsync(TestData.Alice);

        Assert.Equal(DeliveryStatus.Stopped, stopped.Status);
        Assert.Equal(0, stopped.Kpis.AwaitingRetry);
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal(LogStatus.Failed, log.Status);
        Assert.Equal(FailureReason.MailboxFull, log.FailureReason);
        Assert.Empty(await RemindersOf(Log(delivery, "p0")));
        var refusal = await Assert.ThrowsAsync<ConflictException>(() => delivery.ResumeAsync(TestData.Alice));
        Assert.Contains("stopped for good", refusal.Message);
        await Assert.ThrowsAsync<ConflictException>(() => delivery.StopAsync(TestData.Alice));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Stopping_mid_fan_out_leaves_unrelayed_logs_ToDeliver()
    {
        var delivery = await ConfirmAndPauseMidFanOutAsync(Large());

        var stopped = await delivery.StopAsync(TestData.Alice);

        var recount = await delivery.ComputeStatsAsync(TestData.Alice);
        Assert.Equal(DeliveryStatus.Stopped, stopped.Status);
        Assert.True(recount.Sent < recount.ToDeliver);
        var unsent = await delivery.ListLogsAsync(new LogQuery(LogStatus.ToDeliver, null, 1000), TestData.Alice);
        Assert.Equal(recount.ToDeliver - recount.Sent, unsent.Items.Count);
        Assert.Equal(DeliveryStatus.Stopped, (await delivery.GetViewAsync()).Status);
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    [Trait("Rule", "R2")]
    public async Task Pause_resume_and_stop_need_StartDeliveries_and_a_state_that_allows_them()
    {
        var delivery = await PrepareAsync(TestData.Definition());

        var missing = await Assert.ThrowsAsync<MissingRoleException>(() => delivery.PauseAsync(TestData.Paul));
        Assert.Equal(Roles.StartDeliveries, missing.Role);
        await Assert.ThrowsAsync<ConflictException>(() => delivery.PauseAsync(TestData.Alice));
        await Assert.ThrowsAsync<ConflictException>(() => delivery.ResumeAsync(TestData.Alice));
        await Assert.ThrowsAsync<ConflictException>(() => delivery.StopAsync(TestData.Alice));
        Assert.Equal(DeliveryStatus.Ready, (await delivery.GetViewAsync()).Status);
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task A_delivery_with_a_contact_date_is_Scheduled_and_starts_at_that_date()
    {
        var sendAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var delivery = await PrepareAsync(TestData.Definition() with { SendAt = sendAt });

        var scheduled = await delivery.ConfirmSendAsync(TestData.Alice);

        Assert.Equal(DeliveryStatus.Scheduled, scheduled.Status);
        Assert.Equal(0, scheduled.Kpis.Sent);
        Assert.Contains("start", await RemindersOf(delivery));
        var started = await ViewUntil(delivery, v => v.Kpis.Sent == 3, "relaying started at the contact date");
        Assert.True(started.ValidUntil - started.ValidityPeriod >= sendAt - TimeSpan.FromMilliseconds(50),
            $"relaying started at {started.ValidUntil - started.ValidityPeriod:o}, before the contact date {sendAt:o}");
        await Eventually.Until(() => RemindersOf(delivery), r => !r.Contains("start"), "the start reminder dropped");
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task A_scheduled_delivery_starts_after_its_grain_was_deactivated()
    {
        var delivery = await PrepareAsync(TestData.Definition() with { SendAt = DateTimeOffset.UtcNow.AddSeconds(2) });
        await delivery.ConfirmSendAsync(TestData.Alice);

        await Cluster.DeactivateAsync(delivery);
        Assert.False(Cluster.TryGetGrainContext(delivery.GetGrainId(), out _), "the delivery grain is deactivated");

        // Nothing calls the delivery now: only its start reminder can wake it.
        await Eventually.Until(() => RemindersOf(delivery), r => !r.Contains("start"), "the start reminder fired", TimeSpan.FromSeconds(15));
        await ViewUntil(delivery, v => v.Kpis.Sent == 3, "relaying started");
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task A_contact_date_already_past_starts_at_once()
    {
        var delivery = await PrepareAsync(TestData.Definition() with { SendAt = DateTimeOffset.UtcNow.AddMinutes(-5) });

        var view = await delivery.ConfirmSendAsync(TestData.Alice);

        Assert.Equal(DeliveryStatus.InProgress, view.Status);
        await ViewUntil(delivery, v => v.Kpis.Sent == 3, "relayed at once");
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    [Trait("Rule", "R2")]
    public async Task Stopping_a_scheduled_delivery_cancels_it_before_anything_is_sent()
    {
        var delivery = await PrepareAsync(TestData.Definition() with { SendAt = DateTimeOffset.UtcNow.AddHours(1) });
        await delivery.ConfirmSendAsync(TestData.Alice);

        var stopped = await delivery.StopAsync(TestData.Alice);

        Assert.Equal(DeliveryStatus.Stopped, stopped.Status);
        Assert.Equal(0, stopped.Kpis.Sent);
        Assert.Empty(await RemindersOf(delivery));
    }

    [Fact]
    [Trait("Rule", "R2.4")]
    public async Task Changing_the_schedule_of_a_Ready_delivery_sends_it_back_to_Draft()
    {
        var delivery = await PrepareAsync(TestData.Definition());

        var changed = await delivery.ChangeAsync(new DeliveryChanges(null, null, null, DateTimeOffset.UtcNow.AddDays(1)), TestData.Alice);

        Assert.Equal(DeliveryStatus.Draft, changed.Status);
        Assert.NotNull(changed.SendAt);
        await Assert.ThrowsAsync<ConflictException>(() => delivery.ConfirmSendAsync(TestData.Alice));
    }
}
