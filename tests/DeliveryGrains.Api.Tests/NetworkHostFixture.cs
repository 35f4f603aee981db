using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// A silo whose HTTP host listens on every interface (0.0.0.0), as the docker-compose silos do:
/// not loopback only, so monitoring needs a role. Tests reach it through 127.0.0.1.
/// </summary>
public sealed class NetworkHostFixture : IAsyncLifetime
{
    public const string AdminKey = "network-admin-key";
    public const string MonitorKey = "network-monitor-key";
    public const string MarketerKey = "network-marketer-key";

    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client(Action<HttpRequestHeaders>? headers = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        headers?.Invoke(client.DefaultRequestHeaders);
        return client;
    }

    public async Task InitializeAsync()
    {
        var httpPort = ApiHostFixture.FreePort();
        _app = await ApiHostFixture.StartSiloAsync(new Dictionary<string, string?>
        {
            ["Urls"] = $"http://0.0.0.0:{httpPort}",
            ["Orleans:SiloPort"] = ApiHostFixture.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = ApiHostFixture.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "api-network-tests",
            ["Security:Users:0:Name"] = "admin",
            ["Security:Users:0:ApiKey"] = AdminKey,
            ["Security:Users:0:Roles:0"] = "Administration",
            ["Security:Users:1:Name"] = "prometheus",
            ["Security:Users:1:ApiKeySha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(MonitorKey))),
            ["Security:Users:1:Roles:0"] = "Monitoring",
            ["Security:Users:2:Name"] = "marketer",
            ["Security:Users:2:ApiKey"] = MarketerKey,
            ["Security:Users:2:Roles:0"] = "PrepareDeliveries",
        });
        BaseAddress = new Uri($"http://127.0.0.1:{httpPort}");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
