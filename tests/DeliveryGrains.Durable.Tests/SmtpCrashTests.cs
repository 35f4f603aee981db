using DeliveryGrains.TestKit.Smtp;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// R12.1 across a crash: the messages a SIGKILLed silo's relay held in its queue are relayed again by
/// their partitions' next activations, with the same Message-ID, so every recipient is reached and the
/// server sees a message twice only if it was in flight at the kill.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class SmtpCrashTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R12.1")]
    [Trait("Rule", "R8.7")]
    public async Task Messages_a_killed_silo_held_in_its_relay_queue_are_relayed_by_the_survivor()
    {
        const int recipients = 640;
        await using var sink = new SmtpSink(gated: true);
        await sink.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(server, "smtpcrash", silos: 2, output, new Dictionary<string, string>
        {
            ["DeliveryGrains__Storage"] = "Postgres",
            // Ten partitions, so both silos relay some; the watch asks every second.
            ["DeliveryGrains__PartitionSize"] = "64",
            ["DeliveryGrains__HandedWatchPeriod"] = "00:00:01",
            ["Mta__Smtp__Host"] = "127.0.0.1",
            ["Mta__Smtp__Port"] = sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mta__Smtp__StartTls"] = "None",
            ["Mta__Smtp__From"] = "News <news@sender.test>",
            ["Mta__Smtp__BounceDomain"] = "bounces.sender.test",
            ["Mta__Smtp__ConnectionsPerDomain"] = "2",
        });
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "SMTP crash",
            channel = "Email",
            emailFeedbackService = false,
            validityPeriod = "00:01:00",
            retryPeriod = "00:00:05",
            maxRetries = 1,
            generatedTarget = new { count = recipients, seed = 5, domain = "example.test" },
            mta = new { kind = "Smtp" },
        }, recipients);

        // The gate answers nothing yet: once every message is handed, each silo's relay holds its share,
        // a few in transactions at the gate and the rest in its queue. Nothing is answered, so the delivery
        // stays InProgress (R2): the silos' first-attempt counters tell when all is handed.
        await Eventually.Until(
            async () =>
            {
                long handed = 0;
                foreach (var silo in cluster.Silos)
                {
                    handed += await silo.CounterAsync("deliverygrains_messages_relayed", "attempt=\"first\"");
                }

                return handed;
            },
            handed => handed == recipients, "every message handed to a relay", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        Assert.Equal("InProgress", (await cluster.Admin.ViewAsync(id)).Status());
        await Eventually.Until(() => Task.FromResult(sink.ReceivedByMessageId.Count), n => n > 0, "a transaction waiting at the gate", TimeSpan.FromSeconds(30));
        var partitions = await cluster.ActivationsAsync("delivery-partition");
        var killed = partitions.MaxBy(p => p.Value).Key;
        Assert.True(partitions[killed] > 0, "No silo held a partition: killing one would prove nothing.");
        Assert.DoesNotContain(sink.ReceivedByMessageId, m => m.Value > 1);

        cluster.Kill(killed);

        // The gate answers nothing yet, so every message the server has received is still in flight: a
        // message can reach it twice only if its first copy is among these (a count, unlike the
        // transactions waiting at the gate, that no closing connection can lower).
        var inFlightAtKill = sink.ReceivedByMessageId.Count;
        sink.Open();

        var (finished, _) = await cluster.UntilFinishedAsync(id, TimeSpan.FromSeconds(150));
        var logs = await cluster.AssertExactAsync(id, finished, recipients);
        var repeats = sink.ReceivedByMessageId.Values.Sum(n => n - 1);
        output.WriteLine($"killed the silo that had activated {partitions[killed]} of the partitions; {inFlightAtKill} transactions in flight at the kill; " +
            $"{sink.ReceivedByMessageId.Count} messages reached the server, {repeats} of them twice; finished {cluster.SinceKill.TotalSeconds:F1} s after the kill");
        Assert.Equal(recipients, sink.RawTo.Count);
        Assert.All(logs, log => Assert.Equal("Sent", log.GetProperty("status").GetString()));
        Assert.Equal(recipients, finished.Kpi("sent"));
        Assert.True(repeats <= inFlightAtKill, $"{repeats} messages reached the server twice, more than the {inFlightAtKill} in flight at the kill");
    }
}
