using System.Net;
using DeliveryGrains.Addresses;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Deliveries;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// An Orleans client (the command-line Client) is a user with a key like every HTTP caller: the silo
/// checks the key, acts with the roles configured for its user and ignores whatever the client says
/// of itself; the engine's internal calls are closed to it.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ClientAuthenticationTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    /// <summary>A caller claiming every role: what a hostile client would send.</summary>
    private static readonly Caller Mallory = new("mallory", new HashSet<string>(Roles.All));

    private async Task<IHost> ConnectAsync(string? apiKey)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:GatewayPort"] = host.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = ApiHostFixture.ClusterId,
            ["Orleans:ConnectTimeout"] = "00:00:30",
            ["Client:ApiKey"] = apiKey,
        });
        builder.AddDeliveryClient();
        var client = builder.Build();
        await client.Services.GetRequiredService<HostedClusterConnection>().ConnectAsync(CancellationToken.None);
        return client;
    }

    private async Task<string> ReadyAsync()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        return id;
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    public async Task Roles_a_client_asserts_are_replaced_by_the_roles_of_the_user_its_key_names()
    {
        var id = await ReadyAsync();
        using var marketer = await ConnectAsync(ApiHostFixture.MarketerKey);
        var grains = marketer.Services.GetRequiredService<IClusterClient>();

        var refused = await Assert.ThrowsAsync<MissingRoleException>(() => grains.GetGrain<IDeliveryGrain>(id).ConfirmSendAsync(Mallory));

        Assert.Equal(Roles.StartDeliveries, refused.Role);
        Assert.Equal("Ready", (await Admin.ViewAsync(id)).Status());
        using var supervisor = await ConnectAsync(ApiHostFixture.SupervisorKey);
        var confirmed = await supervisor.Services.GetRequiredService<IClusterClient>().GetGrain<IDeliveryGrain>(id).ConfirmSendAsync(new Caller("anyone", new HashSet<string>()));
        Assert.NotEqual(DeliveryStatus.Ready, confirmed.Status);
        await marketer.StopAsync();
        await supervisor.StopAsync();
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    public async Task A_client_refused_for_its_role_is_told_what_it_asked_for_in_words_not_a_method_name()
    {
        using var marketer = await ConnectAsync(ApiHostFixture.MarketerKey);
        var grains = marketer.Services.GetRequiredService<IClusterClient>();
        const string address = "role-words@example.test";

        var refused = await Assert.ThrowsAsync<MissingRoleException>(() => grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address)).ReleaseAsync(address));

        Assert.Equal(Roles.Administration, refused.Role);
        Assert.StartsWith("Releasing an address needs the role 'Administration'", refused.Message);
        Assert.DoesNotContain("Async", refused.Message);
        await marketer.StopAsync();
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData(null)]
    [InlineData("not-a-configured-key")]
    public async Task A_client_without_a_known_key_is_refused_and_changes_nothing(string? key)
    {
        var id = await ReadyAsync();
        using var client = await ConnectAsync(key);
        var grains = client.Services.GetRequiredService<IClusterClient>();

        var refused = await Assert.ThrowsAsync<NotAuthenticatedException>(() => grains.GetGrain<IDeliveryGrain>(id).ConfirmSendAsync(Mallory));

        Assert.Contains("Client:ApiKey", refused.Message);
        Assert.Equal("Ready", (await Admin.ViewAsync(id)).Status());
        await client.StopAsync();
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task The_engines_internal_calls_are_closed_to_clients_even_with_every_role()
    {
        var id = await Admin.StartAsync(Bodies.Delivery());
        using var admin = await ConnectAsync(ApiHostFixture.AdminKey);
        var grains = admin.Services.GetRequiredService<IClusterClient>();

        var refused = await Assert.ThrowsAsync<NotAuthenticatedException>(() =>
            grains.GetGrain<IDeliveryPartitionGrain>($"{id}/0").ChangeRelayStateAsync(RelayState.Stopped, DateTimeOffset.UtcNow));

        Assert.Contains("internal", refused.Message);
        Assert.NotNull(await grains.GetGrain<IDeliveryGrain>(id).GetViewAsync());
        await admin.StopAsync();
    }
}
