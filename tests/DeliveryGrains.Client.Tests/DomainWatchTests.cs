namespace DeliveryGrains.Client.Tests;

/// <summary>The Client's watch shows a delivery per destination domain (R12.3) beside its Deployment block.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DomainWatchTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-client-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R12.3")]
    public async Task Watch_shows_each_domain_of_a_delivery_to_several_domains()
    {
        var p = "dom" + Guid.NewGuid().ToString("N")[..8];
        var csv = Path.Combine(_folder, "target.csv");
        await File.WriteAllLinesAsync(csv,
        [
            "profileId,address",
            $"{p}-1,ann.{p}@alpha.test",
            $"{p}-2,bob.{p}@alpha.test",
            $"{p}-3,cy.{p}@beta.test",
        ]);
        var id = (await _cli.RunAsync("submit", "--name", "Two domains", "--target", csv, "--feedback-delay", "00:00:00", "--hard-bounce-rate", "0",
            "--soft-bounce-rate", "0", "--prepare", "--confirm")).DeliveryId;

        var result = await _cli.RunAsync("watch", id, "--until-settled", "--timeout", "00:00:30");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Domains", result.Output);
        Assert.Equal(2, result.Row("alpha.test"));
        Assert.Equal(1, result.Row("beta.test"));
    }
}
