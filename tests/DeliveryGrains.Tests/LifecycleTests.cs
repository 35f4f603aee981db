using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R1 roles and R2 lifecycle of a delivery.</summary>
public sealed class LifecycleTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R2")]
    [Trait("Rule", "R2.6")]
    public async Task A_delivery_goes_from_Draft_to_Ready_InProgress_Sent_and_Finished()
    {
        var delivery = await CreateAsync(TestData.Definition(TestData.Recipients(3), validity: TimeSpan.FromSeconds(2)));
        Assert.Equal(DeliveryStatus.Draft, (await delivery.GetViewAsync()).Status);

        var prepared = await delivery.PrepareAsync(TestData.Alice);
        Assert.Equal(3, prepared.ToDeliver);
        Assert.Equal(DeliveryStatus.Ready, (await delivery.GetViewAsync()).Status);

        var confirmed = await delivery.ConfirmSendAsync(TestData.Alice);
        Assert.Equal(DeliveryStatus.InProgress, confirmed.Status);
        Assert.NotNull(confirmed.ValidUntil);

        var sent = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Sent, "Sent once every message is relayed");
        Assert.Equal(confirmed.ValidUntil, sent.ValidUntil);

        var finished = await ViewUntil(delivery, v => v.Status == DeliveryStatus.Finished, "Finished at the end of the validity period");
        Assert.Equal(3, finished.Kpis.Sent);
        Assert.Equal(3, finished.Kpis.Delivered);
    }

    [Fact]
    [Trait("Rule", "R2.3")]
    public async Task Confirming_a_Draft_is_a_conflict_and_changes_nothing()
    {
        var delivery = await CreateAsync(TestData.Definition(TestData.Recipients(2)));
        var before = await delivery.GetViewAsync();

        await Assert.ThrowsAsync<ConflictException>(() => delivery.ConfirmSendAsync(TestData.Alice));

        var after = await delivery.GetViewAsync();
        Assert.Equal(DeliveryStatus.Draft, after.Status);
        Assert.Null(after.ValidUntil);
        Assert.Equal(Figures(before.Kpis), Figures(after.Kpis));
        Assert.Empty((await delivery.ListLogsAsync(new LogQuery(null, null, 10), TestData.Alice)).Items);
    }

    [Fact]
    [Trait("Rule", "R2.3")]
    [Trait("Rule", "R2.5")]
    public async Task Confirming_again_after_the_send_started_is_a_conflict_and_relays_nothing_twice()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(3)));
        var before = await delivery.GetViewAsync();

        await Assert.ThrowsAsync<ConflictException>(() => delivery.ConfirmSendAsync(TestData.Alice));
        await Assert.ThrowsAsync<ConflictException>(() => delivery.ConfirmSendAsync(TestData.Alice));

        var after = await delivery.GetViewAsync();
        Assert.Equal(before.Status, after.Status);
        Assert.Equal(before.ValidUntil, after.ValidUntil);
        Assert.Equal(3, after.Kpis.Sent);
        foreach (var profile in new[] { "p0", "p1", "p2" })
        {
            Assert.Equal(1, (await delivery.GetLogAsync(profile, TestData.Alice)).Attempts);
        }
    }

    [Fact]
    [Trait("Rule", "R2.5")]
    public async Task Of_concurrent_confirms_exactly_one_succeeds_and_each_message_is_relayed_once()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(40)));

        var attempts = Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                await delivery.ConfirmSendAsync(TestData.Alice);
                return true;
            }
            catch (ConflictException)
            {
                return false;
            }
        }).ToList();
        var outcomes = await Task.WhenAll(attempts);

        Assert.Single(outcomes, succeeded => succeeded);
        var kpis = await KpisUntil(delivery, k => k.Sent == k.ToDeliver, "every message relayed");
        Assert.Equal(40, kpis.ToDeliver);
        Assert.Equal(40, kpis.Sent);
        var logs = await AllLogsAsync(delivery);
        Assert.Equal(40, logs.Count);
        Assert.All(logs, l => Assert.Equal(1, l.Attempts));
        Assert.All(logs, l => Assert.Equal(LogStatus.Sent, l.Status));
    }

    [Fact]
    [Trait("Rule", "R2.4")]
    public async Task Changing_the_target_of_a_Ready_delivery_sends_it_back_to_Draft()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(2)));
        Assert.Equal(DeliveryStatus.Ready, (await delivery.GetViewAsync()).Status);

        var changed = await delivery.ChangeAsync(new DeliveryChanges(null, TestData.Recipients(5), null, null), TestData.Alice);

        Assert.Equal(DeliveryStatus.Draft, changed.Status);
        Assert.Equal(5, changed.TargetSize);
        await Assert.ThrowsAsync<ConflictException>(() => delivery.ConfirmSendAsync(TestData.Alice));
        Assert.Equal(5, (await delivery.PrepareAsync(TestData.Alice)).ToDeliver);
        Assert.Equal(DeliveryStatus.Ready, (await delivery.GetViewAsync()).Status);
    }

    [Fact]
    [Trait("Rule", "R2.4")]
    public async Task Changing_the_schedule_sends_a_Ready_delivery_back_to_Draft_but_renaming_does_not()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(2)));

        var renamed = await delivery.ChangeAsync(new DeliveryChanges("Renamed", null, null, null), TestData.Alice);
        Assert.Equal(DeliveryStatus.Ready, renamed.Status);
        Assert.Equal("Renamed", renamed.Name);

        var rescheduled = await delivery.ChangeAsync(new DeliveryChanges(null, null, null, DateTimeOffset.UtcNow.AddDays(1)), TestData.Alice);
        Assert.Equal(DeliveryStatus.Draft, rescheduled.Status);
    }

    [Fact]
    [Trait("Rule", "R2.3")]
    public async Task A_confirmed_delivery_can_no_longer_be_changed_or_prepared()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(2)));

        await Assert.ThrowsAsync<ConflictException>(() => delivery.ChangeAsync(new DeliveryChanges(null, TestData.Recipients(3), null, null), TestData.Alice));
        await Assert.ThrowsAsync<ConflictException>(() => delivery.PrepareAsync(TestData.Alice));
        Assert.Equal(2, (await delivery.GetViewAsync()).TargetSize);
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    public async Task Only_a_StartDeliveries_user_can_confirm_and_the_refusal_names_the_role()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(2)));

        var refused = await Assert.ThrowsAsync<MissingRoleException>(() => delivery.ConfirmSendAsync(TestData.Paul));

        Assert.Equal(Roles.StartDeliveries, refused.Role);
        Assert.Contains(Roles.StartDeliveries, refused.Message);
        var view = await delivery.GetViewAsync();
        Assert.Equal(DeliveryStatus.Ready, view.Status);
        Assert.Null(view.ValidUntil);
        Assert.Equal(0, view.Kpis.Sent);

        // The same delivery still starts for a user who holds the role.
        Assert.Equal(DeliveryStatus.InProgress, (await delivery.ConfirmSendAsync(TestData.Sam)).Status);
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task Creating_and_preparing_need_PrepareDeliveries()
    {
        var refused = await Assert.ThrowsAsync<MissingRoleException>(() =>
            Delivery(TestData.NewDeliveryId()).CreateAsync(TestData.Definition(), TestData.Ada));
        Assert.Equal(Roles.PrepareDeliveries, refused.Role);

        var delivery = await CreateAsync(TestData.Definition());
        var refusedPrepare = await Assert.ThrowsAsync<MissingRoleException>(() => delivery.PrepareAsync(TestData.Ada));
        Assert.Equal(Roles.PrepareDeliveries, refusedPrepare.Role);
        Assert.Equal(DeliveryStatus.Draft, (await delivery.GetViewAsync()).Status);
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Creating_a_delivery_under_a_taken_id_is_a_conflict()
    {
        var delivery = await CreateAsync(TestData.Definition(name: "first"));

        await Assert.ThrowsAsync<ConflictException>(() => delivery.CreateAsync(TestData.Definition(name: "second"), TestData.Alice));
        Assert.Equal("first", (await delivery.GetViewAsync()).Name);
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task An_unknown_delivery_is_not_found()
    {
        await Assert.ThrowsAsync<NotFoundException>(() => Delivery(TestData.NewDeliveryId()).GetViewAsync());
    }

    private static async Task<List<SendingLog>> AllLogsAsync(IDeliveryGrain delivery)
    {
        var logs = new List<SendingLog>();
        string? cursor = null;
        do
        {
            var page = await delivery.ListLogsAsync(new LogQuery(null, cursor, 100), TestData.Alice);
            logs.AddRange(page.Items);
            cursor = page.Next;
        }
        while (cursor is not null);

        return logs;
    }
}
