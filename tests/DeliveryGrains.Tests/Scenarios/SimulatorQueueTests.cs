using DeliveryGrains.Deliveries;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests.Scenarios;

/// <summary>
/// The simulated MTA keeps at most its queue limit of outcomes; a relay past it waits for room, as
/// a real MTA's full queue would defer, and every message still goes out once room is made. The
/// fixture's clock stands still, so no outcome falls due and leaves the queue until the test moves it.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class SimulatorQueueTests(ScenarioClusterFixture fixture)
{
    private const int Target = 300;
    private static readonly TimeSpan FeedbackDelay = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact, Trait("Rule", "R4"), Trait("Rule", "R12.5")]
    public async Task A_relay_past_the_simulators_queue_limit_waits_for_room_and_every_message_still_goes_out()
    {
        var delivery = fixture.Cluster.GrainFactory.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(TestData.Definition(
            generated: new GeneratedTarget(Target, Random.Shared.Next(1, int.MaxValue), "queue.test"),
            efs: true,
            validity: TimeSpan.FromHours(12),
            mta: new MtaSettings(MtaKind.Simulated, HardBounceRate: 0, SoftBounceRate: 0, OpenRate: 0, ClickRate: 0, FeedbackDelay: FeedbackDelay)), TestData.Alice);
        await delivery.PrepareAsync(TestData.Alice);
        await delivery.ConfirmSendAsync(TestData.Alice);

        // Every outcome waits a minute of a clock that stands still: the queue fills and the relay waits.
        await Eventually.Until(() => Task.FromResult(fixture.Simulator.WaitingForRoom), waiting => waiting > 0, "a relay waiting for room", Bound);
        Assert.InRange(fixture.Simulator.Queued, ScenarioClusterFixture.SimulatorMaxQueued, Target - 1);

        // Each minute that passes lets the waiting outcomes go; the relay goes on until every message is
        // delivered. The clock moves only while outcomes wait, at most once a probe, so it stays within
        // hours of the real one and the other tests' validity periods.
        var kpis = (await Eventually.Until(
            async () =>
            {
                if (fixture.Simulator.Queued > 0)
                {
                    ScenarioClusterFixture.Clock.Advance(FeedbackDelay);
                }

                return await delivery.GetViewAsync();
            },
            view => view.Kpis.Delivered == Target,
            "every message delivered once the queue had room",
            Bound,
            poll: TimeSpan.FromMilliseconds(500))).Kpis;

        Assert.Equal(((long)Target, (long)Target, 0L), (kpis.Sent, kpis.Delivered, kpis.Pending));
    }
}
