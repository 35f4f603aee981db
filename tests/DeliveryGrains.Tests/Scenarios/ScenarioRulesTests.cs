using DeliveryGrains.Deliveries;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests.Scenarios;

/// <summary>R12.5: what a scenario may say, checked in one place for the API and the Client.</summary>
public sealed class ScenarioRulesTests
{
    private static ScenarioDomain Good(string domain, double share) =>
        new(domain, share, 100, 0.01, 0.02, new ScenarioLatency(TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)),
            new ScenarioGreylist(0.2, TimeSpan.FromMinutes(5)), new ScenarioEngagement(0.3, [5, 3, 1]), new ScenarioEngagement(0.05, null));

    private static Dictionary<string, string[]> Validate(SimulatorScenario scenario, MtaKind kind = MtaKind.Simulated, Channel channel = Channel.Email) =>
        DeliveryRules.Validate(TestData.Definition(
            generated: new GeneratedTarget(10, 1, "example.test"), mta: new MtaSettings(kind, Scenario: scenario), channel: channel));

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public void A_sound_scenario_passes()
    {
        Assert.Empty(Validate(new SimulatorScenario("mix", [Good("a.test", 0.7), Good("b.test", 0.3)])));
    }

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public void Every_bad_field_is_named_with_its_bounds()
    {
        var bad = new ScenarioDomain("not a domain", 1.5, 0, -0.1, 2, new ScenarioLatency(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1), TimeSpan.FromDays(2)),
            new ScenarioGreylist(null, TimeSpan.FromDays(3)), new ScenarioEngagement(7, []), new ScenarioEngagement(0.1, [-1, 0]));
        var errors = Validate(new SimulatorScenario(new string('n', 201), [bad, Good("a.test", 0.2), Good("A.test", 0.2)]));

        Assert.Contains("mta.scenario.name", errors.Keys);
        Assert.Contains("not a domain", errors["mta.scenario.domains[0].domain"].Single());
        Assert.Contains("above 0 and at most 1", errors["mta.scenario.domains[0].share"].Single());
        Assert.Contains("1 to 10,000,000", errors["mta.scenario.domains[0].acceptPerMinute"].Single());
        Assert.Contains("from 0 to 1", errors["mta.scenario.domains[0].hardBounceRate"].Single());
        Assert.Contains("from 0 to 1", errors["mta.scenario.domains[0].softBounceRate"][0]);
        Assert.Contains("\"1.00:00:00\"", errors["mta.scenario.domains[0].latency.max"].Single());
        Assert.Contains("min ≤ median ≤ max", errors["mta.scenario.domains[0].latency"].Single());
        Assert.Contains("fraction from 0 to 1", errors["mta.scenario.domains[0].greylist.rate"].Single());
        Assert.Contains("\"1.00:00:00\"", errors["mta.scenario.domains[0].greylist.retryAfter"].Single());
        Assert.Contains("from 0 to 1", errors["mta.scenario.domains[0].opens.rate"].Single());
        Assert.Contains("1 to 168", errors["mta.scenario.domains[0].opens.hourly"].Single());
        Assert.Contains("0 or more", errors["mta.scenario.domains[0].clicks.hourly"].Single());
        Assert.Contains("listed twice", errors["mta.scenario.domains[2].domain"].Single());
    }

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public void Shares_add_up_to_one_and_a_scenario_needs_domains()
    {
        Assert.Contains("add up to 0.9", Validate(new SimulatorScenario(null, [Good("a.test", 0.6), Good("b.test", 0.3)]))["mta.scenario.domains"].Single());
        Assert.Contains("1 to 1,000", Validate(new SimulatorScenario(null, []))["mta.scenario.domains"].Single());
        Assert.Contains("1 to 1,000", Validate(new SimulatorScenario(null, null))["mta.scenario.domains"].Single());
    }

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public void A_scenario_drives_the_simulated_MTA_for_email_only()
    {
        var scenario = new SimulatorScenario(null, [Good("a.test", 1)]);
        Assert.Contains("mta.kind Simulated", Validate(scenario, MtaKind.External)["mta.scenario"].Single());
        Assert.Contains("channel Email", Validate(scenario, channel: Channel.Sms)["mta.scenario"].Single());
    }

    [Fact, Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public void The_picker_matches_the_shares_within_a_few_recipients_for_any_count()
    {
        var picker = new ScenarioDomainPicker(new SimulatorScenario(null, [Good("a.test", 0.5), Good("B.test", 0.25), Good("c.test", 0.2), Good("d.test", 0.05)]));
        foreach (var count in new[] { 20, 1_000, 100_000 })
        {
            var counts = Enumerable.Range(0, count).GroupBy(picker.DomainOf).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(count, counts.Values.Sum());
            foreach (var (domain, share) in new[] { ("a.test", 0.5), ("b.test", 0.25), ("c.test", 0.2), ("d.test", 0.05) })
            {
                Assert.InRange(counts.GetValueOrDefault(domain), share * count - 3, share * count + 3);
            }
        }

        Assert.Equal(picker.DomainOf(12_345), picker.DomainOf(12_345));
    }
}
