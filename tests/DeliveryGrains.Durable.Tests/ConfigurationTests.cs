using Microsoft.Extensions.Options;

namespace DeliveryGrains.Durable.Tests;

[Collection(DurableCollection.Name)]
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Host=127.0.0.1;NoSuchKeyword=1")]
    [Trait("Area", "Durable")]
    [Trait("Rule", "A bad connection string stops the silo naming ConnectionStrings:Postgres")]
    public async Task Postgres_mode_without_a_usable_connection_string_refuses_to_start(string? connectionString)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => DurableHost.StartAsync(connectionString!));

        Assert.Contains("ConnectionStrings:Postgres", error.Message);
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "A bad connection string stops the silo naming ConnectionStrings:Postgres")]
    public async Task Postgres_mode_with_an_unreachable_server_refuses_to_start()
    {
        var nobody = $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres;Database=none;Timeout=2";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => DurableHost.StartAsync(nobody));

        Assert.Contains("ConnectionStrings:Postgres", error.ToString());
        Assert.DoesNotContain("Password", error.ToString());
    }
}
