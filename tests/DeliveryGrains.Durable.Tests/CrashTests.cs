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
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    [Trait("Rule", "R7.3")]
    public async Task A_delivery_finishes_with_exact_counts_when_one_of_two_silos_is_killed_while_it_relays()
    {
        const int recipients = 3000;
        await using var cluster = await SiloCluster.StartAsync(server, "crash", silos: 2, output);
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
}
