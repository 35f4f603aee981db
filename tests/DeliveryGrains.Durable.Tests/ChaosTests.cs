using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// Chaos rounds: three durable silo processes on one PostgreSQL; each round SIGKILLs or gracefully
/// stops a silo chosen at random and starts a new one in its place, while a simulated delivery with
/// retries runs, an MTA posts every event of an External-MTA delivery at least twice (shuffled, in
/// batches of up to 1,000), a scheduled delivery falls due and readers poll views and logs. Afterwards
/// nothing that was promised may have changed: every delivery final with exact counts, every event
/// answered accepted applied exactly once, no message attempt relayed twice, no log pending.
/// The short version runs with every <c>dotnet test</c>; <c>DELIVERYGRAINS_CHAOS_ROUNDS=10</c> runs
/// the long one (README, "Chaos rounds"). Every random choice comes from a seed written to the output
/// (<c>DELIVERYGRAINS_CHAOS_SEED</c> replays it).
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class ChaosTests(PostgresServer server, ITestOutputHelper output)
{
    public const string RoundsVariable = "DELIVERYGRAINS_CHAOS_ROUNDS";
    public const string SeedVariable = "DELIVERYGRAINS_CHAOS_SEED";

    /// <summary>Bound of every wait on one silo (stopped, declared dead, serving, active again) on a loaded machine.</summary>
    private static readonly TimeSpan SiloBound = TimeSpan.FromSeconds(180);

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R3.1")]
    [Trait("Rule", "R7.1")]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R7.4")]
    [Trait("Rule", "R8.7")]
    public async Task Rounds_of_killed_and_restarted_silos_lose_nothing_acknowledged()
    {
        var plan = Plan.FromEnvironment();
        output.WriteLine($"Chaos: {plan}");
        var random = new Random(plan.Seed);
        await using var cluster = await SiloCluster.StartAsync(server, "chaos", silos: 3, output,
            new Dictionary<string, string> { ["DeliveryGrains__PartitionSize"] = "256" });
        var validity = plan.Validity.ToString("c");

        // The External-MTA delivery: every message relayed before its first event is posted (feedback
        // for a message not yet relayed is refused for good). A retry period past the validity end
        // fails a soft bounce at once, so each log's final state follows from its events alone.
        var external = await cluster.StartDeliveryAsync(new
        {
            name = "Chaos external",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = validity,
            retryPeriod = "1.00:00:00",
            maxRetries = 1,
            recipients = Enumerable.Range(0, plan.External).Select(i => new { profileId = $"x-{i}", address = $"x{i}@example.test" }).ToArray(),
            mta = new { kind = "External" },
        }, plan.External);
        await cluster.Admin.UntilAsync(external, v => v.Kpi("sent") == plan.External, SiloBound);

        var simulated = await cluster.StartDeliveryAsync(new
        {
            name = "Chaos simulated",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = validity,
            retryPeriod = "00:00:05",
            maxRetries = 2,
            generatedTarget = new { count = plan.Simulated, seed = plan.Seed, domain = "example.test" },
            mta = new { kind = "Simulated", hardBounceRate = 0.05, softBounceRate = 0.3, retrySuccessRate = 0.6, openRate = 0.3, clickRate = 0.1, feedbackDelay = "00:00:00.200", seed = plan.Seed },
        }, plan.Simulated);

        var sendAt = DateTimeOffset.UtcNow + plan.ScheduledAfter;
        var scheduled = await cluster.StartDeliveryAsync(new
        {
            name = "Chaos scheduled",
            channel = "Email",
            emailFeedbackService = false,
            sendAt,
            validityPeriod = "00:01:00",
            generatedTarget = new { count = plan.Scheduled, seed = plan.Seed + 1, domain = "example.test" },
            mta = new { kind = "Simulated", feedbackDelay = "00:00:00.200", seed = plan.Seed + 1 },
        }, plan.Scheduled);

        // The MTA's story: one outcome per message, an open for some delivered ones; every event sent
        // two or three times, all shuffled, cut into one portion per round (and one after) of batches.
        var outcomes = Enumerable.Range(0, plan.External).Select(_ => random.Next(100) switch
        {
            < 70 => "Delivered",
            < 85 => "HardBounce",
            _ => "SoftBounce",
        }).ToArray();
        var opened = Enumerable.Range(0, plan.External).Select(i => outcomes[i] == "Delivered" && random.Next(2) == 0).ToArray();
        var events = new List<object>();
        for (var i = 0; i < plan.External; i++)
        {
            events.Add(Bodies.Event(external, $"x-{i}", outcomes[i], outcomes[i] switch { "HardBounce" => "UserUnknown", "SoftBounce" => "MailboxFull", _ => null }));
            if (opened[i])
            {
                events.Add(Bodies.Event(external, $"x-{i}", "Open"));
            }
        }

        var sends = events.SelectMany(e => Enumerable.Repeat(e, 2 + random.Next(2))).ToArray();
        random.Shuffle(sends);
        var portions = Enumerable.Range(0, plan.Rounds + 1)
            .Select(r => sends[(sends.Length * r / (plan.Rounds + 1))..(sends.Length * (r + 1) / (plan.Rounds + 1))])
            .Select(portion => Batches(portion, random).ToList())
            .ToList();
        var poster = new Poster(cluster);

        using var stopReading = new CancellationTokenSource();
        var readers = new Readers(cluster, [external, simulated, scheduled]);
        var reading = readers.RunAsync(stopReading.Token);

        long duplicatedRelays = 0;
        for (var round = 0; round < plan.Rounds; round++)
        {
            var posting = poster.PostAsync(portions[round]);
            var victim = cluster.Silos[random.Next(cluster.Silos.Count)];
            var graceful = random.Next(2) == 0;
            duplicatedRelays += await victim.CounterAsync("deliverygrains_simulator_relays_duplicated");
            var replacement = await cluster.ReplaceAsync(victim, graceful, SiloBound);
            await posting;
            output.WriteLine($"Round {round + 1}: {(graceful ? "stopped" : "killed")} silo {victim.Name}, declared dead and replaced by {replacement.Name} " +
                $"{cluster.SinceKill.TotalSeconds:F1} s after; {poster}; {readers}");
        }

        await poster.PostAsync(portions[^1]);
        var views = new Dictionary<string, JsonElement>();
        foreach (var id in new[] { external, simulated, scheduled })
        {
            views[id] = await cluster.Admin.ViewAsync(id);
        }

        var validUntil = views[external].GetProperty("validUntil").GetDateTimeOffset();
        var margin = validUntil - DateTimeOffset.UtcNow;
        output.WriteLine($"Every event posted {margin.TotalSeconds:F0} s before the validity end; {poster}");
        Assert.True(margin > TimeSpan.Zero,
            $"The last event was applied {-margin.TotalSeconds:F0} s after the validity end: the machine was too slow for {plan.Validity} (raise Plan.Validity).");

        // Every delivery ends (the validity period is over) with exact counts and nothing pending.
        var finished = new Dictionary<string, JsonElement>();
        foreach (var id in new[] { scheduled, external, simulated })
        {
            // A scheduled delivery not started yet has no validity end: its contact date plus its period bounds it.
            var until = views[id].GetProperty("validUntil") is { ValueKind: JsonValueKind.String } end
                ? end.GetDateTimeOffset()
                : sendAt + TimeSpan.FromMinutes(1);
            (finished[id], _) = await cluster.UntilFinishedAsync(id, until - DateTimeOffset.UtcNow + SiloBound);
        }

        await stopReading.CancelAsync();
        await reading;
        await cluster.AssertExactAsync(scheduled, finished[scheduled], plan.Scheduled);
        // It started at its contact date (its validity period runs from the start), not before.
        var scheduledEnd = finished[scheduled].GetProperty("validUntil").GetDateTimeOffset();
        Assert.True(scheduledEnd >= sendAt + TimeSpan.FromSeconds(59), $"The scheduled delivery's validity ends at {scheduledEnd:O}: it started before its contact date {sendAt:O}.");
        await cluster.AssertExactAsync(simulated, finished[simulated], plan.Simulated);

        // Every event answered accepted was applied exactly once: each log's final state is what its
        // events say, and no event was answered accepted twice (the sum of accepted answers never
        // exceeds the distinct events). It can fall short of them: a log that stored a batch on a silo
        // killed before it answered is asked again by the API (or the poster), and answers duplicate.
        var logs = (await cluster.AssertExactAsync(external, finished[external], plan.External)).ToDictionary(l => l.GetProperty("profileId").GetString()!);
        for (var i = 0; i < plan.External; i++)
        {
            var log = logs[$"x-{i}"];
            var expected = outcomes[i] switch
            {
                "Delivered" => ("Sent", (string?)null, 1, opened[i]),
                "HardBounce" => ("Failed", "Hard", 1, false),
                _ => ("Failed", "Soft", 1, false),
            };
            var actual = (log.GetProperty("status").GetString(), log.GetProperty("failureType").GetString(), log.GetProperty("attempts").GetInt32(), log.GetProperty("opened").GetBoolean());
            Assert.True(actual == expected, $"x-{i}: expected {expected}, got {log}");
        }

        foreach (var silo in cluster.Silos)
        {
            duplicatedRelays += await silo.CounterAsync("deliverygrains_simulator_relays_duplicated");
        }

        output.WriteLine($"Chaos figures: rounds {plan.Rounds}, seed {plan.Seed}; events {events.Count} distinct, {sends.Length} posted, " +
            $"{poster.Accepted} answered accepted, {poster.Duplicates} duplicates, {poster.Rejected} rejected and posted again, {poster.Refused} posts refused whole; " +
            $"{events.Count} applied (every log as its events say); relays duplicated {duplicatedRelays}; {readers}");
        Assert.True(poster.Accepted <= events.Count, $"{poster.Accepted} events answered accepted for {events.Count} distinct events: some event was accepted twice.");
        Assert.Equal(0, duplicatedRelays);
    }

    /// <summary>A portion of sends cut into batches of 1 to 1,000 events.</summary>
    private static IEnumerable<object[]> Batches(object[] sends, Random random)
    {
        for (var start = 0; start < sends.Length;)
        {
            var size = Math.Min(sends.Length - start, 1 + random.Next(1000));
            yield return sends[start..(start + size)];
            start += size;
        }
    }

    /// <summary>The MTA: posts batches one after another until every event of each was applied, and sums the answers.</summary>
    private sealed class Poster(SiloCluster cluster)
    {
        public int Accepted { get; private set; }

        public int Duplicates { get; private set; }

        public int Rejected { get; private set; }

        public int Refused { get; private set; }

        public int Batches { get; private set; }

        public async Task PostAsync(IEnumerable<object[]> batches)
        {
            foreach (var batch in batches)
            {
                var posted = await cluster.PostFeedbackUntilAppliedAsync(batch, SiloBound);
                (Accepted, Duplicates, Rejected, Refused, Batches) =
                    (Accepted + posted.Accepted, Duplicates + posted.Duplicates, Rejected + posted.Rejected, Refused + posted.Refused, Batches + 1);
            }
        }

        public override string ToString() =>
            $"{Batches} batches posted: {Accepted} events accepted, {Duplicates} duplicates, {Rejected} rejected and posted again, {Refused} posts refused whole";
    }

    /// <summary>Readers of views and log pages through whichever silo is up; a failure during a failover is counted, not fatal.</summary>
    private sealed class Readers(SiloCluster cluster, IReadOnlyList<string> deliveries)
    {
        private int _answered;
        private int _failed;

        public async Task RunAsync(CancellationToken stop)
        {
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            try
            {
                while (await pace.WaitForNextTickAsync(stop))
                {
                    foreach (var id in deliveries)
                    {
                        await ReadAsync($"/api/deliveries/{id}", stop);
                        await ReadAsync($"/api/deliveries/{id}/logs?limit=100", stop);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The rounds are over.
            }
        }

        private async Task ReadAsync(string path, CancellationToken stop)
        {
            try
            {
                using var response = await cluster.Admin.GetAsync(path, stop);
                Interlocked.Increment(ref response.StatusCode == HttpStatusCode.OK ? ref _answered : ref _failed);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !stop.IsCancellationRequested))
            {
                Interlocked.Increment(ref _failed);
            }
        }

        public override string ToString() => $"readers: {_answered} reads answered, {_failed} failed";
    }

    /// <summary>The sizes of a run: short by default, long when <see cref="RoundsVariable"/> asks for more rounds.</summary>
    private sealed record Plan(int Rounds, int Simulated, int External, int Scheduled, TimeSpan ScheduledAfter, TimeSpan Validity, int Seed)
    {
        public static Plan FromEnvironment()
        {
            var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var s) ? s : Random.Shared.Next(1, 1_000_000);
            var rounds = int.TryParse(Environment.GetEnvironmentVariable(RoundsVariable), out var r) && r > 0 ? r : 2;

            // Short: two rounds over a few thousand messages. Long: the issue's sizes. The validity
            // period outlasts the rounds on a loaded machine (a round took up to 72 s with four test
            // runs sharing two cores), so every event is posted before it ends (asserted).
            return rounds <= 2
                ? new Plan(rounds, Simulated: 2000, External: 600, Scheduled: 200, ScheduledAfter: TimeSpan.FromSeconds(30), Validity: TimeSpan.FromMinutes(4), seed)
                : new Plan(rounds, Simulated: 20_000, External: 5000, Scheduled: 1000, ScheduledAfter: TimeSpan.FromSeconds(90), Validity: TimeSpan.FromMinutes(3 + (2 * rounds)), seed);
        }
    }
}
