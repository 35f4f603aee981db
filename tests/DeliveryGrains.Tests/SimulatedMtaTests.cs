using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>The simulated Enhanced MTA drives whole deliveries by itself, deterministically per seed.</summary>
public sealed class SimulatedMtaTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    private const int MaxRetries = 2;
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    private static MtaSettings Simulator(int seed) => new(
        MtaKind.Simulated, HardBounceRate: 0.05, SoftBounceRate: 0.10, RetrySuccessRate: 0.5,
        OpenRate: 0.3, ClickRate: 0.1, FeedbackDelay: TimeSpan.Zero, Seed: seed);

    private static DeliveryDefinition Generated(int count, int targetSeed, MtaSettings mta) => TestData.Definition(
        generated: new GeneratedTarget(count, targetSeed, $"{Unique.Id()}.test"),
        efs: true, retryPeriod: TimeSpan.FromSeconds(1), maxRetries: MaxRetries, mta: mta);

    [Fact]
    [Trait("Rule", "R8.8")]
    [Trait("Rule", "R8.7")]
    [Trait("Rule", "R7.1")]
    [Trait("Rule", "R6")]
    public async Task A_simulated_delivery_of_500_settles_with_the_outcomes_its_seed_decides()
    {
        var definition = Generated(500, targetSeed: 11, Simulator(seed: 42));
        var delivery = await StartAsync(definition);

        var running = await KpisUntil(delivery, k => k.Settled, "every message settled", SettleTimeout);
        var stats = await delivery.ComputeStatsAsync(TestData.Alice);

        // Compute stats finds what the running figures already said.
        Assert.Equal(RunningFigures(running), RunningFigures(stats));

        // Every recipient's story is the one the simulator's pure function tells.
        var expected = Expectations(delivery.GetPrimaryKeyString(), definition);
        Assert.Equal(500, stats.ToDeliver);
        Assert.Equal(500, stats.Sent);
        Assert.Equal(expected.Count(e => e.Value.Phase == LogPhase.Delivered), stats.Delivered);
        Assert.Equal(expected.Count(e => e.Value.Phase == LogPhase.Failed), stats.BouncesAndErrors);
        Assert.Equal(expected.Count(e => e.Value.Opened), stats.Opens);
        Assert.Equal(expected.Count(e => e.Value.Clicked), stats.Clicks);

        // The configured rates show through, roughly.
        var hard = expected.Count(e => e.Value is { Phase: LogPhase.Failed, Attempts: 1 });
        var retried = expected.Count(e => e.Value.Attempts > 1);
        Assert.InRange(hard / 500.0, 0.02, 0.08);
        Assert.InRange(retried / 500.0, 0.06, 0.14);
        Assert.InRange(stats.DeliveredRate, 85, 97);
        Assert.InRange(stats.OpenRate, 22, 38);
        Assert.InRange(stats.ClickThroughRate, 5, 15);
    }

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R7.1")]
    public async Task The_same_seed_gives_every_recipient_the_same_outcome_in_two_deliveries()
    {
        // Same generated profiles, different domains (so no quarantine is shared), same simulator seed.
        var first = Generated(120, targetSeed: 5, Simulator(seed: 7));
        var second = Generated(120, targetSeed: 5, Simulator(seed: 7));
        var deliveries = await Task.WhenAll(StartAsync(first), StartAsync(second));
        await Task.WhenAll(deliveries.Select(d => KpisUntil(d, k => k.Settled, "every message settled", SettleTimeout)));

        var outcomes = await Task.WhenAll(deliveries.Select(OutcomesAsync));

        Assert.Equal(120, outcomes[0].Count);
        Assert.Equal(outcomes[0], outcomes[1]);
        var expected = Expectations(deliveries[0].GetPrimaryKeyString(), first);
        Assert.All(outcomes[0], o => Assert.Equal(expected[o.Key], o.Value));
        Assert.Contains(outcomes[0].Values, o => o.Phase == LogPhase.Failed);
        Assert.Contains(outcomes[0].Values, o => o.Attempts > 1);
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    [Trait("Rule", "R6.5")]
    public async Task Running_KPIs_stay_right_after_the_partitions_are_deactivated_and_woken_by_late_feedback()
    {
        const int Target = 1000;

        // Outcomes come back while the partitions relay; a fifth of the messages soft-bounce and wait on a long retry.
        var mta = new MtaSettings(MtaKind.Simulated, HardBounceRate: 0, SoftBounceRate: 0.2, OpenRate: 0, ClickRate: 0,
            FeedbackDelay: TimeSpan.Zero, Seed: 9);
        var definition = TestData.Definition(generated: new GeneratedTarget(Target, 21, $"{Unique.Id()}.test"),
            efs: true, retryPeriod: TimeSpan.FromHours(1), mta: mta);

        // A thousand relays on a loaded two-core machine can take longer than the default bound.
        var delivery = await StartAsync(definition, SettleTimeout);
        var waiting = await KpisUntil(delivery, k => k.Pending == 0, "every first outcome counted", SettleTimeout);
        Assert.InRange(waiting.AwaitingRetry, 1, Target - 1);
        var partitions = (int)Math.Ceiling((double)Target / ClusterFixture.PartitionSize);

        // The partitions go idle and are collected...
        for (var p = 0; p < partitions; p++)
        {
            await Cluster.DeactivateAsync(Grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(delivery.GetPrimaryKeyString(), p)));
        }

        // ...and the retries' outcomes wake them up again.
        var retrying = (await OutcomesAsync(delivery)).Where(o => o.Value.Phase == LogPhase.AwaitingRetry).Select(o => o.Key).ToList();
        Assert.Equal(waiting.AwaitingRetry, retrying.Count);
        foreach (var profile in retrying)
        {
            await FeedAsync(delivery, profile, FeedbackType.Delivered);
        }

        var kpis = await KpisUntil(delivery, k => k.AwaitingRetry == 0, "every retry outcome counted");
        Assert.Equal(((long)Target, 0L, 0L), (kpis.Delivered, kpis.Pending, kpis.BouncesAndErrors));
        Assert.True(kpis.Settled);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void The_simulators_answer_is_a_pure_function_of_seed_recipient_and_attempt()
    {
        var mta = Simulator(seed: 3);
        OutboundMessage Message(string deliveryId, string profile, int attempt) =>
            new(deliveryId, 0, 0, profile, $"{profile}@example.test", Channel.Email, attempt, true, mta);
        static string Story(IReadOnlyList<FeedbackEvent> events) => string.Join(",", events.Select(e => $"{e.Type}:{e.Reason}"));

        for (var i = 0; i < 200; i++)
        {
            var profile = $"p{i}";
            Assert.Equal(
                Story(SimulatedOutcomes.For(Message("d1", profile, 1), DateTimeOffset.UnixEpoch)),
                Story(SimulatedOutcomes.For(Message("d2", profile, 1), DateTimeOffset.UtcNow)));
        }

        var alwaysHard = SimulatedOutcomes.For(Message("d", "x", 1) with { Mta = mta with { HardBounceRate = 1, SoftBounceRate = 0 } }, DateTimeOffset.UnixEpoch);
        Assert.Equal(FeedbackType.HardBounce, Assert.Single(alwaysHard).Type);

        var clicker = SimulatedOutcomes.For(Message("d", "x", 1) with { Mta = mta with { HardBounceRate = 0, SoftBounceRate = 0, ClickRate = 1 } }, DateTimeOffset.UnixEpoch);
        Assert.Equal([FeedbackType.Delivered, FeedbackType.Open, FeedbackType.Click], clicker.Select(e => e.Type));
        Assert.Equal(clicker.Count, clicker.Select(e => e.EventId).Distinct().Count());

        var sms = SimulatedOutcomes.For(Message("d", "x", 1) with { Channel = Channel.Sms, Mta = mta with { HardBounceRate = 0, SoftBounceRate = 0, ClickRate = 1 } }, DateTimeOffset.UnixEpoch);
        Assert.Equal(FeedbackType.Delivered, Assert.Single(sms).Type);
    }

    private static async Task<Dictionary<string, Outcome>> OutcomesAsync(IDeliveryGrain delivery)
    {
        var outcomes = new Dictionary<string, Outcome>();
        string? cursor = null;
        do
        {
            var page = await delivery.ListLogsAsync(new LogQuery(null, cursor, 50), TestData.Alice);
            foreach (var log in page.Items)
            {
                outcomes.Add(log.ProfileId, new Outcome(log.Phase, log.Attempts, log.Opened, log.Clicked));
            }

            cursor = page.Next;
        }
        while (cursor is not null);

        return outcomes;
    }

    /// <summary>What the simulator decides for each recipient: attempts until delivered, hard-bounced or out of retries.</summary>
    private static Dictionary<string, Outcome> Expectations(string deliveryId, DeliveryDefinition definition)
    {
        var target = definition.GeneratedTarget!;
        var expectations = new Dictionary<string, Outcome>();
        for (var i = 0; i < target.Count; i++)
        {
            var recipient = TargetResolution.GeneratedRecipient(target, i);
            for (var attempt = 1; ; attempt++)
            {
                var events = SimulatedOutcomes.For(
                    new OutboundMessage(deliveryId, 0, i, recipient.ProfileId, recipient.Address!, definition.Channel, attempt, definition.EmailFeedbackService, definition.Mta),
                    DateTimeOffset.UnixEpoch);
                var types = events.Select(e => e.Type).ToHashSet();
                if (types.Contains(FeedbackType.Delivered))
                {
                    expectations[recipient.ProfileId] = new Outcome(LogPhase.Delivered, attempt,
                        types.Contains(FeedbackType.Open) || types.Contains(FeedbackType.Click), types.Contains(FeedbackType.Click));
                    break;
                }

                if (types.Contains(FeedbackType.HardBounce) || attempt == 1 + definition.MaxRetries)
                {
                    expectations[recipient.ProfileId] = new Outcome(LogPhase.Failed, attempt, false, false);
                    break;
                }
            }
        }

        return expectations;
    }

    private sealed record Outcome(LogPhase Phase, int Attempts, bool Opened, bool Clicked);
}
