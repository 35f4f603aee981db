using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests.Scenarios;

/// <summary>R12.5 end to end: a scenario's domains, their shares and caps, seen in the domain view.</summary>
[Collection(ScenarioCollection.Name)]
public sealed class ScenarioRunTests(ScenarioClusterFixture fixture)
{
    private const string OpenDomain = "open.test";
    private const string CappedDomain = "capped.test";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private static ScenarioDomain Domain(string name, double share, int? cap) =>
        new(name, share, cap, HardBounceRate: 0, SoftBounceRate: 0, Latency: null, Greylist: null,
            Opens: new ScenarioEngagement(0, null), Clicks: new ScenarioEngagement(0, null));

    private static DeliveryDefinition Definition(SimulatorScenario scenario, int count) =>
        TestData.Definition(
            generated: new GeneratedTarget(count, Random.Shared.Next(1, int.MaxValue), "unused.test"),
            efs: true,
            validity: TimeSpan.FromHours(12),
            mta: new MtaSettings(MtaKind.Simulated, FeedbackDelay: TimeSpan.Zero, Scenario: scenario));

    private async Task<IDeliveryGrain> StartAsync(DeliveryDefinition definition)
    {
        var delivery = Grains.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(definition, TestData.Alice);
        await delivery.PrepareAsync(TestData.Alice);
        await delivery.ConfirmSendAsync(TestData.Alice);
        return delivery;
    }

    private static Task<Dictionary<string, DomainStats>> DomainsUntil(IDeliveryGrain delivery, Func<Dictionary<string, DomainStats>, bool> condition, string expectation) =>
        Eventually.Until(
            async () => (await delivery.GetDomainsAsync()).ToDictionary(d => d.Domain),
            condition,
            expectation,
            Bound);

    private static bool Settled(DomainStats d) => d.Delivered + d.BouncesAndErrors == d.ToDeliver;

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5"), Trait("Rule", "R12.3"), Trait("Rule", "R2"), Trait("Rule", "R8.1")]
    public async Task The_capped_domain_settles_later_than_the_others_and_the_delivery_stays_InProgress_until_it_did()
    {
        const int cap = 4;
        const int count = 30;
        var scenario = new SimulatorScenario("two domains", [Domain(OpenDomain, 0.5, null), Domain(CappedDomain, 0.5, cap)]);
        var picker = new ScenarioDomainPicker(scenario);
        var capped = Enumerable.Range(0, count).Count(i => picker.DomainOf(i) == CappedDomain);
        Assert.InRange(capped, 2 * cap + 1, count - 1);
        var delivery = await StartAsync(Definition(scenario, count));

        // The scenario's clock stands still: the capped domain takes its first minute's cap and defers
        // every other message (R12.3), while the uncapped domain settles.
        var first = await DomainsUntil(delivery,
            d => d.Count == 2 && Settled(d[OpenDomain]) && d[CappedDomain].Delivered == cap && d[CappedDomain].Deferrals == capped - cap,
            $"{OpenDomain} settled; {CappedDomain} {cap} delivered and {capped - cap} deferred");
        Assert.Equal(count - capped, first[OpenDomain].ToDeliver);
        Assert.Equal(0, first[OpenDomain].Deferrals);
        Assert.Null(first[OpenDomain].RateCapPerMinute);
        Assert.Equal(capped, first[CappedDomain].ToDeliver);
        Assert.Equal(cap, first[CappedDomain].Sent);
        Assert.Equal(cap, first[CappedDomain].RateCapPerMinute);
        Assert.False(Settled(first[CappedDomain]));

        // R2: every message was handed to the MTA, but the deferred ones are not relayed (R8.1, R12.3).
        // The clock stands, so the KPIs reach this figure and stay there.
        var relayedSoFar = (long)(count - capped + cap);
        var waiting = await Eventually.Until(delivery.GetViewAsync, v => v.Kpis.Sent == relayedSoFar, $"{relayedSoFar} sent in the KPIs", Bound);
        Assert.Equal(DeliveryStatus.InProgress, waiting.Status);

        // Each new minute lets the next cap's worth through; every message still waiting met one more deferral.
        var deferrals = (long)(capped - cap);
        for (var minute = 1; minute * cap < capped; minute++)
        {
            var through = Math.Min(capped, (minute + 1) * cap);
            deferrals += capped - through;
            ScenarioClusterFixture.Clock.Advance(TimeSpan.FromMinutes(1));
            var expected = deferrals;
            await DomainsUntil(delivery,
                d => d[CappedDomain].Sent == through && d[CappedDomain].Delivered == through && d[CappedDomain].Deferrals == expected,
                $"minute {minute}: {through} of {CappedDomain} delivered, {expected} deferrals in all");
            if (through < capped)
            {
                Assert.Equal(DeliveryStatus.InProgress, (await delivery.GetViewAsync()).Status);
            }
        }

        var last = (await delivery.GetDomainsAsync()).ToDictionary(d => d.Domain);
        Assert.True(Settled(last[CappedDomain]));
        Assert.Equal(capped, last[CappedDomain].Delivered);
        await Eventually.Until(delivery.GetViewAsync, v => v is { Status: DeliveryStatus.Sent, Kpis.Delivered: var delivered } && delivered == count,
            "Sent once the last deferred message was relayed, every message delivered", Bound);
    }

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public async Task Generated_recipients_go_on_the_scenario_domains_by_share_and_stay_ToDeliver_until_accepted()
    {
        const int count = 200;
        var scenario = new SimulatorScenario(null, [
            Domain("big.test", 0.6, null), Domain("mid.test", 0.3, null), Domain("held.test", 0.1, 1)]);
        var delivery = await StartAsync(Definition(scenario, count));

        var domains = await DomainsUntil(delivery,
            d => d.Count == 3 && Settled(d["big.test"]) && Settled(d["mid.test"]) && d["held.test"].Deferrals == d["held.test"].ToDeliver - 1,
            "big.test and mid.test settled, held.test deferring all but one");
        Assert.InRange(domains["big.test"].ToDeliver, 118, 122);
        Assert.InRange(domains["mid.test"].ToDeliver, 58, 62);
        Assert.InRange(domains["held.test"].ToDeliver, 18, 22);
        Assert.Equal(count, domains.Values.Sum(d => d.ToDeliver));

        // R12.1/R12.3: a deferred message is not sent; its log stays ToDeliver with no attempt relayed.
        Assert.Equal(1, domains["held.test"].Sent);
        var waiting = (await delivery.ListLogsAsync(new LogQuery(LogStatus.ToDeliver, null, 1000), TestData.Alice)).Items;
        Assert.Equal(domains["held.test"].ToDeliver - 1, waiting.Count);
        Assert.All(waiting, l => Assert.EndsWith("@held.test", l.Address));
        Assert.All(waiting, l => Assert.Null(l.RelayedAt));
        await delivery.StopAsync(TestData.Alice);
    }
}
