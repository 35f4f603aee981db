using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>Readiness follows the database: a silo whose PostgreSQL stops is not ready, and is again once it is back.</summary>
[Collection(DurableCollection.Name)]
public sealed class HealthTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Area", "Operations")]
    public async Task Ready_turns_503_when_PostgreSQL_stops_and_200_when_it_is_back()
    {
        // A server of its own: stopping the collection's would take it from every other test.
        var database = new PostgresServer();
        await database.InitializeAsync();
        try
        {
            await using var cluster = await SiloCluster.StartAsync(database, "health", silos: 1, output,
                new Dictionary<string, string> { ["DeliveryGrains__Storage"] = "Postgres" });
            using var probe = new HttpClient { BaseAddress = cluster.Silos[0].Address, Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(probe)).Status);

            await database.StopAsync();
            var down = await Eventually.Until(() => ReadyAsync(probe), r => r.Status == HttpStatusCode.ServiceUnavailable,
                "/health/ready answering 503 once PostgreSQL stopped", TimeSpan.FromSeconds(60));
            Assert.Equal("Unhealthy", down.Body.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/health/live")).StatusCode);

            await database.StartAsync();
            await Eventually.Until(() => ReadyAsync(probe), r => r.Status == HttpStatusCode.OK,
                "/health/ready answering 200 once PostgreSQL is back", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient probe)
    {
        using var response = await probe.GetAsync("/health/ready");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, body);
    }
}
