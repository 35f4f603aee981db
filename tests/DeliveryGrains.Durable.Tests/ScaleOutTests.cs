using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// The correctness half of scaling out (docs/scaling.md): three silo processes on one PostgreSQL share
/// one delivery's partitions, and the delivery settles with the running KPIs equal to the recount.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class ScaleOutTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    public async Task A_delivery_on_three_silos_spreads_its_partitions_over_all_three_and_settles_exactly()
    {
        const int recipients = 1600;
        // 100 partitions of 16 placed by hash: a silo is left without one with a chance of about 3 × (2/3)^100 ≈ 10^-17.
        await using var cluster = await SiloCluster.StartAsync(server, "scaleout", silos: 3, output, new Dictionary<string, string>
        {
            ["DeliveryGrains__Storage"] = "Postgres",
            ["DeliveryGrains__PartitionSize"] = "16",
            ["Orleans__Placement"] = "Hash",
        });
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Scale out",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = "00:00:40",
            retryPeriod = "00:00:02",
            maxRetries = 3,
            generatedTarget = new { count = recipients, seed = 21, domain = "example.test" },
            mta = new { kind = "Simulated", feedbackDelay = "00:00:00.100", seed = 21 },
        }, recipients);

        var (finished, _) = await cluster.UntilFinishedAsync(id, TimeSpan.FromSeconds(120));

        var partitions = await cluster.ActivationsAsync("delivery-partition");
        output.WriteLine($"partition activations per silo: {string.Join(", ", partitions.Values)}");
        Assert.Equal(3, partitions.Count);
        Assert.All(partitions.Values, count => Assert.True(count > 0, $"a silo activated no partition: {string.Join(", ", partitions.Values)}"));
        Assert.True(partitions.Values.Sum() >= 100, $"{partitions.Values.Sum()} partition activations for 100 partitions");
        await cluster.AssertExactAsync(id, finished, recipients);
    }
}
