using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// The only silo of a cluster stopped with SIGTERM in the middle of a delivery leaves in order: it logs
/// no error on the way out (its grains stop calling each other before Orleans deactivates them, see
/// LastSiloDeparture, so no call waits on a grain that has nowhere to go), and the silo started in its
/// place finishes the delivery exactly.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class GracefulStopTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Area", "Operations")]
    [Trait("Rule", "R8.7")]
    public async Task The_only_silo_stopped_mid_delivery_logs_no_error_and_its_replacement_finishes_the_delivery_exactly()
    {
        const int recipients = 2000;
        await using var cluster = await SiloCluster.StartAsync(server, "graceful", silos: 1, output, new Dictionary<string, string>
        {
            ["DeliveryGrains__Storage"] = "Postgres",
            ["DeliveryGrains__PartitionSize"] = "100",
        });
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Graceful stop",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = "00:00:45",
            retryPeriod = "00:00:02",
            maxRetries = 3,
            generatedTarget = new { count = recipients, seed = 13, domain = "example.test" },
            mta = new { kind = "Simulated", feedbackDelay = "00:00:00.300", seed = 13 },
        }, recipients);
        // Mid-delivery: every message relayed (the delivery makes no more calls of its own), feedback and retries still to come.
        var atStop = await cluster.Admin.UntilAsync(id, v => v.Status() == "Sent", TimeSpan.FromSeconds(30));
        output.WriteLine($"stopping with {atStop.Kpi("pending")} pending and {atStop.Kpi("awaitingRetry")} awaiting a retry");

        var stopped = cluster.Silos[0];
        await cluster.ReplaceAsync(stopped, graceful: true, TimeSpan.FromSeconds(90));

        var (finished, _) = await cluster.UntilFinishedAsync(id, TimeSpan.FromSeconds(120));
        await cluster.AssertExactAsync(id, finished, recipients);
        var errors = stopped.Output.Split('\n').Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, $"the stopped silo logged {errors.Count} errors, e.g.: {string.Join(" | ", errors.Take(3))}\n{stopped.Output}");
    }
}
