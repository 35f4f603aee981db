using System.Text.Json;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// A silo SIGKILLed at some moment of a delivery; the survivors finish it with every log final and
/// the running KPIs equal to the recount.
/// Feedback the simulated MTA held in the killed process is lost with it, as a real MTA's would be
/// with its host: those messages fail as Expired at the end of the validity period (R7.3).
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class CrashTests(PostgresServer server, ITestOutputHelper output)
{
    /// <summary>Partitions small enough that a few hundred recipients make several.</summary>
    private static readonly Dictionary<string, string> SmallPartitions = new() { ["DeliveryGrains__PartitionSize"] = "64" };

    [Theory]
    [InlineData("Postgres")]
    [InlineData("AdoNet")]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    [Trait("Rule", "R7.3")]
    public async Task A_delivery_finishes_with_exact_counts_when_one_of_two_silos_is_killed_while_it_relays(string storage)
    {
        const int recipients = 3000;
        await using var cluster = await SiloCluster.StartAsync(server, "crash", silos: 2, output, On(storage));
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Crash",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = "00:00:40",
            retryPeriod = "00:00:02",
            maxRetries = 5,
            generatedTarget = new { count = recipients, seed = 7, domain = "example.test" },
            mta = new { kind = "Simulated", feedbackDelay = "00:00:00.200", seed = 7 },
        }, recipients);

        // Kill silo B while the delivery relays and feedback comes in, at the latest once something was sent.
        var killedAt = await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") > 0, TimeSpan.FromSeconds(30));
        var (silo, killed) = (cluster.Silos[0], cluster.Silos[1]);
        cluster.Kill(killed);

        var (finished, failures) = await cluster.UntilFinishedAsync(id, TimeSpan.FromSeconds(90));
        var lostFeedback = silo.Output.Split('\n').Count(l => l.Contains("could not deliver", StringComparison.Ordinal));
        output.WriteLine($"Killed silo B at sent {killedAt.Kpi("sent")}/{recipients}; Finished {cluster.SinceKill.TotalSeconds:F1} s later; " +
            $"{failures} view calls failed during failover; silo A dropped {lostFeedback} simulated feedback batches");
        await cluster.AssertExactAsync(id, finished, recipients);
    }

    [Theory]
    [InlineData("Postgres")]
    [InlineData("AdoNet")]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R7.1")]
    [Trait("Rule", "R8.7")]
    public async Task Retries_waiting_when_one_of_two_silos_is_killed_are_relayed_by_the_survivor(string storage)
    {
        const int recipients = 400;
        await using var cluster = await SiloCluster.StartAsync(server, "retries", silos: 2, output, On(storage, SmallPartitions));
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Crash during retries",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = "00:01:00",
            // Far longer than the failover plus the time the first outcomes take to come in on a loaded
            // machine, so every retry falls due once the survivor owns the killed silo's reminders and
            // activations; one due during the failover would wait for the reminder's next period (a
            // minute) and fail at the end of validity instead.
            retryPeriod = "00:00:20",
            maxRetries = 3,
            generatedTarget = new { count = recipients, seed = 11, domain = "example.test" },
            mta = new { kind = "Simulated", hardBounceRate = 0.0, softBounceRate = 0.5, retrySuccessRate = 0.5, openRate = 0.0, clickRate = 0.0, feedbackDelay = "00:00:00.200", seed = 11 },
        }, recipients);

        // Only retries are left: every message relayed, every first outcome in, soft bounces waiting.
        var settled = await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") == recipients && v.Kpi("pending") == 0 && v.Kpi("awaitingRetry") > 0, TimeSpan.FromSeconds(30));
        var validUntil = settled.GetProperty("validUntil").GetDateTimeOffset();
        var before = await cluster.LogsAsync(id);
        Assert.DoesNotContain(before, l => Phase(l) is "ToDeliver" or "AwaitingOutcome");
        var waiting = before.Where(l => Phase(l) == "AwaitingRetry").Select(l => l.GetProperty("profileId").GetString()!).ToHashSet();
        // Placement decides where logs live (often all beside their partitions): kill the silo that
        // created the most, so the survivor must take over their retry reminders.
        var created = await cluster.ActivationsAsync("recipient-log");
        var killed = created.MaxBy(c => c.Value).Key;
        var silo = cluster.Silos.Single(s => s != killed);
        var logsOnKilled = created[killed];
        Assert.True(logsOnKilled > 0, "No silo held a sending log: killing one would prove nothing.");
        foreach (var each in cluster.Silos)
        {
            // Read after the logs: none of the waiting logs was retried before the kill.
            Assert.Equal(0, await each.CounterAsync("deliverygrains_messages_relayed", "attempt=\"retry\""));
        }

        var firstDue = await cluster.FirstReminderDueAsync("retry");
        cluster.Kill(killed);
        var killedAt = DateTimeOffset.UtcNow;
        var dead = await cluster.UntilDeclaredDeadAsync(killed);
        Assert.True(killedAt + dead < firstDue,
            $"The killed silo was declared dead {dead.TotalSeconds:F1} s after the kill, after the first retry fell due ({(firstDue - killedAt)!.Value.TotalSeconds:F1} s after the kill): raise the retry period above the failover.");
        var (finished, _) = await cluster.UntilFinishedAsync(id, validUntil - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30));
        var logs = await cluster.AssertExactAsync(id, finished, recipients);

        var notRetried = logs.Where(l => waiting.Contains(l.GetProperty("profileId").GetString()!) && l.GetProperty("attempts").GetInt32() < 2).ToList();
        var retries = await silo.CounterAsync("deliverygrains_messages_relayed", "attempt=\"retry\"");
        output.WriteLine($"{waiting.Count} logs awaiting a retry when the silo that had created {logsOnKilled} log activations was killed; declared dead {dead.TotalSeconds:F1} s later, " +
            $"the first retry due {(firstDue - killedAt)!.Value.TotalSeconds:F1} s after the kill; " +
            $"the survivor relayed {retries} retries; Finished {cluster.SinceKill.TotalSeconds:F1} s after the kill");
        Assert.True(notRetried.Count == 0, $"{notRetried.Count} of the {waiting.Count} logs awaiting a retry at the kill were never retried, e.g. {notRetried.FirstOrDefault()}");
        Assert.True(retries >= waiting.Count, $"the survivor relayed {retries} retries for {waiting.Count} logs awaiting one");
    }

    [Theory]
    [InlineData("Postgres")]
    [InlineData("AdoNet")]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R6.6")]
    [Trait("Rule", "R8.7")]
    public async Task A_delivery_finishes_when_a_silo_is_killed_as_its_validity_period_ends(string storage)
    {
        const int recipients = 1024;
        // Failure detection slower than the margin the kill leaves before the validity end: the expiry
        // starts while the killed silo is still a member, whatever the machine's load.
        await using var cluster = await SiloCluster.StartAsync(server, "validity", silos: 2, output,
            On(storage, new Dictionary<string, string>(SmallPartitions) { ["Orleans__Membership__ProbeTimeout"] = "00:00:03" }));
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Crash at validity end",
            channel = "Email",
            emailFeedbackService = true,
            // Long enough for every outcome below and the retries they call for to settle first on either
            // storage on a loaded machine (each is waited for; the freeze asserts it came first): the
            // kill waits for the clock anyway.
            validityPeriod = "00:01:30",
            retryPeriod = "00:00:04",
            maxRetries = 3,
            recipients = Enumerable.Range(0, recipients).Select(i => new { profileId = $"p-{i}", address = $"p{i}@example.test" }).ToArray(),
            mta = new { kind = "External" },
        }, recipients);
        await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") == recipients, TimeSpan.FromSeconds(30));

        // Preferably the silo not holding the delivery dies: the validity timer fires on the survivor and
        // the expiry meets partitions and logs lost with the killed silo. When placement put them all
        // beside the delivery, that silo dies instead and the survivor must bring the delivery back
        // (its timer died with it) and end the validity period.
        var host = await cluster.DeliveryHostAsync();
        var other = cluster.Silos.Single(s => s != host);
        var logs = await cluster.ActivationsAsync("recipient-log");
        var partitions = await cluster.ActivationsAsync("delivery-partition");
        var killed = logs[other] + partitions[other] > 0 ? other : host;
        var (killedLogs, killedPartitions) = (logs[killed], partitions[killed]);
        Assert.True(killedLogs + killedPartitions > 0, $"Silo {killed.Name} held no partition and no log: killing it would prove nothing.");

        // A quarter delivered, a quarter hard-bounced, a quarter soft-bounced (their retry goes out and
        // gets no answer), a quarter never answered: at the end those two wait on an outcome.
        string Profile(int i) => $"p-{i}";
        var feedback = Enumerable.Range(0, recipients).Select(i => (i * 4 / recipients) switch
        {
            0 => Bodies.Event(id, Profile(i), "Delivered"),
            1 => Bodies.Event(id, Profile(i), "HardBounce", "UserUnknown"),
            2 => Bodies.Event(id, Profile(i), "SoftBounce", "MailboxFull"),
            _ => null,
        }).OfType<object>().ToArray();
        await cluster.PostFeedbackUntilAppliedAsync(feedback, TimeSpan.FromSeconds(45));
        var view = await cluster.Admin.UntilAsync(id, v => v.Kpi("awaitingRetry") == recipients / 4 && v.Kpi("pending") == recipients / 4, TimeSpan.FromSeconds(45));
        var validUntil = view.GetProperty("validUntil").GetDateTimeOffset();

        // Every soft bounce's retry went out before the freeze (the expected two attempts), not hoped
        // to by the clock: the silos' relay counters say so.
        await UntilRetriesRelayedAsync(cluster, recipients / 4, TimeSpan.FromSeconds(45));

        // Just before the validity timer fires the silo stops answering (frozen: its probes time out,
        // 2 × 3 s at the least before it can be declared dead), and dies once the period is over: the
        // expiry starts while the failover has not even begun, by construction.
        await UntilClockAsync(validUntil - TimeSpan.FromSeconds(2));
        killed.Freeze();
        var frozenAt = DateTimeOffset.UtcNow;
        var early = validUntil - frozenAt;
        Assert.True(early > TimeSpan.Zero, $"The freeze came {-early.TotalSeconds:F2} s after the end of the validity period: the machine was too slow for this test.");
        await UntilClockAsync(validUntil + TimeSpan.FromMilliseconds(500));
        cluster.Kill(killed);
        var dead = await cluster.UntilDeclaredDeadAsync(killed) + (DateTimeOffset.UtcNow - frozenAt - cluster.SinceKill);
        var (finished, failures) = await cluster.UntilFinishedAsync(id, TimeSpan.FromSeconds(90));
        output.WriteLine($"Killed silo {killed.Name} ({(killed == host ? "the delivery, " : "")}{killedPartitions} partitions, {killedLogs} logs) {early.TotalSeconds:F2} s before validity end, declared dead {dead.TotalSeconds:F2} s after the kill; " +
            $"Finished {cluster.SinceKill.TotalSeconds:F1} s after the kill; {failures} view calls failed");

        // Every log stored what it answered: no read had to ask a log whose stored state was behind
        // its partition's mirror (an expiry once kept a log's failure in memory when its reminder
        // could not be dropped during the failover, and never stored it).
        Assert.DoesNotContain("behind its partition's mirror", cluster.Output, StringComparison.Ordinal);
        var final = (await cluster.AssertExactAsync(id, finished, recipients)).ToDictionary(l => l.GetProperty("profileId").GetString()!);
        Assert.DoesNotContain("behind its partition's mirror", cluster.Output, StringComparison.Ordinal);
        for (var i = 0; i < recipients; i++)
        {
            var log = final[Profile(i)];
            var actual = (log.GetProperty("status").GetString(), log.GetProperty("failureType").GetString(), SiloCluster.Reason(log), log.GetProperty("attempts").GetInt32());
            var expected = (i * 4 / recipients) switch
            {
                0 => ("Sent", null, null, 1),
                1 => ("Failed", "Hard", "UserUnknown", 1),
                2 => ("Failed", "Soft", "MailboxFull", 2), // R6.6: the retry went out, its outcome never came
                _ => ("Failed", "Ignored", "Expired", 1), // R7.3: still pending at the end
            };
            Assert.True(actual == expected, $"{Profile(i)}: expected {expected}, got {log}");
        }
    }

    [Theory]
    [InlineData("Postgres")]
    [InlineData("AdoNet")]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    [Trait("Rule", "R7.3")]
    public async Task A_delivery_spread_over_three_silos_finishes_with_exact_counts_when_one_is_killed_during_feedback(string storage)
    {
        const int recipients = 1200;
        // 30 partitions of 40: the sending logs live in them, and hash placement leaves a silo without
        // one with a chance of about 3 × (2/3)^30 ≈ 0.00002.
        await using var cluster = await SiloCluster.StartAsync(server, "three", silos: 3, output,
            On(storage, new Dictionary<string, string> { ["DeliveryGrains__PartitionSize"] = "40" }));
        string Profile(int i) => $"p-{i}";
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Crash of one of three",
            channel = "Email",
            emailFeedbackService = true,
            // Every outcome the test posts, the second half through the failover, is applied long before
            // the validity end (asserted below): an event applied after it would find its log Expired.
            validityPeriod = "00:02:00",
            retryPeriod = "00:00:03",
            maxRetries = 2,
            recipients = Enumerable.Range(0, recipients).Select(i => new { profileId = Profile(i), address = $"p{i}@example.test" }).ToArray(),
            // The test is the MTA: half the outcomes come before the kill, half after, by construction.
            mta = new { kind = "External" },
        }, recipients);

        await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") == recipients, TimeSpan.FromSeconds(60));
        var partitions = await cluster.ActivationsAsync("delivery-partition");
        var spread = string.Join(", ", cluster.Silos.Select(s => $"{s.Name}: {partitions[s]} partitions"));
        // Every silo holds partitions, so the kill below loses sending logs whoever the delivery's host is.
        Assert.True(partitions.All(p => p.Value > 0), $"The delivery did not spread over the silos: {spread}");
        var killed = await cluster.DeliveryHostAsync();

        // Outcomes: mostly delivered, some hard bounces, some soft bounces whose retry goes out unanswered.
        object Outcome(int i) => (i % 10) switch
        {
            0 => Bodies.Event(id, Profile(i), "SoftBounce", "MailboxFull"),
            1 => Bodies.Event(id, Profile(i), "HardBounce", "UserUnknown"),
            _ => Bodies.Event(id, Profile(i), "Delivered"),
        };
        var before = Enumerable.Range(0, recipients / 2).Select(Outcome).ToArray();
        await cluster.PostFeedbackUntilAppliedAsync(before, TimeSpan.FromSeconds(60));
        var killedAt = await cluster.Admin.UntilAsync(id, v => v.Kpi("pending") == recipients / 2, TimeSpan.FromSeconds(30));
        var validUntil = killedAt.GetProperty("validUntil").GetDateTimeOffset();
        cluster.Kill(killed);

        // The other half through a survivor during the failover: a batch refused while the dead silo's
        // grains move, or the events of a log the silo could not reach yet (rejected inside a 202), are
        // posted again (event ids make a repeat harmless) until every event is accepted.
        var after = Enumerable.Range(recipients / 2, recipients / 2).Select(Outcome).ToArray();
        var posted = await cluster.PostFeedbackUntilAppliedAsync(after, TimeSpan.FromSeconds(90));
        var margin = validUntil - DateTimeOffset.UtcNow;
        Assert.True(margin > TimeSpan.Zero, $"The last outcome was applied {-margin.TotalSeconds:F1} s after the validity end: the machine was too slow for this test.");

        var dead = await cluster.UntilDeclaredDeadAsync(killed);
        var (finished, failures) = await cluster.UntilFinishedAsync(id, TimeSpan.FromSeconds(120));
        output.WriteLine($"{spread}; killed silo {killed.Name} (the delivery's) at pending {killedAt.Kpi("pending")}; the second half refused whole {posted.Refused} times, {posted.Rejected} of its events rejected and posted again, all applied {margin.TotalSeconds:F0} s before the validity end; " +
            $"declared dead {dead.TotalSeconds:F1} s later; Finished {cluster.SinceKill.TotalSeconds:F1} s after the kill; {failures} view calls failed");
        var final = (await cluster.AssertExactAsync(id, finished, recipients)).ToDictionary(l => l.GetProperty("profileId").GetString()!);
        for (var i = 0; i < recipients; i++)
        {
            var log = final[Profile(i)];
            var expected = (i % 10) switch { 0 => ("Failed", "Soft"), 1 => ("Failed", "Hard"), _ => ("Sent", (string?)null) };
            Assert.True((log.GetProperty("status").GetString(), log.GetProperty("failureType").GetString()) == expected, $"{Profile(i)}: expected {expected}, got {log}");
        }
    }

    [Theory]
    [InlineData("Postgres")]
    [InlineData("AdoNet")]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R2")]
    [Trait("Rule", "R8.7")]
    public async Task A_stop_during_a_failover_is_answered_and_reaches_every_partition(string storage)
    {
        const int recipients = 1000;
        await using var cluster = await SiloCluster.StartAsync(server, "stopfail", silos: 2, output,
            On(storage, new Dictionary<string, string> { ["DeliveryGrains__PartitionSize"] = "16" }));
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Stop during failover",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = "00:03:00",
            // Far beyond the test: a retry relayed after the stop would be the stop's failure.
            retryPeriod = "00:01:30",
            maxRetries = 1,
            generatedTarget = new { count = recipients, seed = 13, domain = "example.test" },
            mta = new { kind = "Simulated", hardBounceRate = 0.0, softBounceRate = 0.5, retrySuccessRate = 1.0, openRate = 0.0, clickRate = 0.0, feedbackDelay = "00:00:00.100", seed = 13 },
        }, recipients);
        var waiting = await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") == recipients && v.Kpi("pending") == 0, TimeSpan.FromSeconds(60));
        Assert.True(waiting.Kpi("awaitingRetry") > 0, $"No log awaits a retry: {waiting}");

        // The silo not holding the delivery dies; with 63 partitions hashed over two silos it held some.
        var host = await cluster.DeliveryHostAsync();
        var killed = cluster.Silos.Single(s => s != host);
        var partitions = await cluster.ActivationsAsync("delivery-partition");
        Assert.True(partitions[killed] > 0, $"Silo {killed.Name} held no partition: the stop would meet no failover.");
        cluster.Kill(killed);

        // At once, before the survivor knows the silo is dead: the stop is stored and answered.
        using var stop = await cluster.Admin.PostEmptyAsync($"/api/deliveries/{id}/stop");
        var body = await stop.Content.ReadAsStringAsync();
        Assert.True(stop.StatusCode == System.Net.HttpStatusCode.Accepted, $"stop answered {(int)stop.StatusCode}: {body}");
        Assert.Equal("Stopped", System.Text.Json.JsonDocument.Parse(body).RootElement.Status());

        // Every partition, the killed silo's too once they live again, takes the stop: each waiting retry fails.
        var stopped = await cluster.Admin.UntilAsync(id, v => v.Kpi("awaitingRetry") == 0, TimeSpan.FromSeconds(90));
        var dead = await cluster.UntilDeclaredDeadAsync(killed);
        output.WriteLine($"{partitions[killed]} partitions on the killed silo; stop answered during the failover (declared dead {dead.TotalSeconds:F1} s after the kill); " +
            $"every retry cancelled {cluster.SinceKill.TotalSeconds:F1} s after the kill");
        await cluster.AssertExactAsync(id, stopped, recipients);
        Assert.Equal(0, await host.CounterAsync("deliverygrains_messages_relayed", "attempt=\"retry\""));
    }

    /// <summary>
    /// Silo settings on a grain state storage: <c>Postgres</c> (the project's group-commit storage) or
    /// <c>AdoNet</c> (the stock Orleans ADO.NET provider); both keep membership and reminders in PostgreSQL.
    /// </summary>
    private static Dictionary<string, string> On(string storage, IReadOnlyDictionary<string, string>? settings = null) =>
        new(settings ?? new Dictionary<string, string>()) { ["DeliveryGrains__Storage"] = storage };

    /// <summary>Until the wall clock reaches <paramref name="instant"/>: the moment is the event.</summary>
    private static async Task UntilClockAsync(DateTimeOffset instant)
    {
        using var clock = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (DateTimeOffset.UtcNow < instant)
        {
            await clock.WaitForNextTickAsync();
        }
    }

    /// <summary>Until the silos still running relayed <paramref name="count"/> retries between them.</summary>
    private static Task UntilRetriesRelayedAsync(SiloCluster cluster, int count, TimeSpan within) =>
        Eventually.Until(
            async () =>
            {
                long relayed = 0;
                foreach (var silo in cluster.Silos.Where(s => !s.Killed))
                {
                    relayed += await silo.CounterAsync("deliverygrains_messages_relayed", "attempt=\"retry\"");
                }

                return relayed;
            },
            relayed => relayed >= count, $"{count} retries relayed by the silos still running", within, TimeSpan.FromMilliseconds(200));

    private static string Phase(JsonElement log) => log.GetProperty("phase").GetString()!;
}
