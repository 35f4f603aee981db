using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeliveryGrains.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// The real silo host (Kestrel on a free loopback port, the Orleans silo, the dashboard), built
/// with the same extension methods as Program.cs and started once for the whole collection.
/// </summary>
public sealed class ApiHostFixture : IAsyncLifetime
{
    public const string AdminKey = "admin-key";
    public const string MarketerKey = "marketer-key";
    public const string OtherMarketerKey = "other-marketer-key";
    public const string SupervisorKey = "supervisor-key";
    public const string MtaKey = "mta-key";

    /// <summary>A Monitoring user whose key is configured only as its SHA-256.</summary>
    public const string MonitorKey = "monitor-key";

    /// <summary>The host's <c>Quarantine:MaxErrors</c>; its <c>SignificantErrorInterval</c> is zero.</summary>
    public const int MaxErrors = 2;

    /// <summary>The host's <c>Api:MaxRequestBodyBytes</c>: room for a full feedback batch of 10,000 events.</summary>
    public const long MaxRequestBodyBytes = 4L << 20;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The silo's Orleans gateway port, for tests that connect as an Orleans client.</summary>
    public int GatewayPort { get; private set; }

    public const string ClusterId = "api-tests";

    /// <summary>The host's services, e.g. to record a metric the way a grain would.</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The host is not started.");

    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    public async Task InitializeAsync()
    {
        var httpPort = FreePort();
        GatewayPort = FreePort();
        _app = await StartSiloAsync(new Dictionary<string, string?>
        {
            // Every interface, as the docker-compose silos listen: monitoring then needs a role (docs/security.md).
            // Tests reach it through 127.0.0.1. One silo per test process: a second would share the engine's meter name.
            ["Urls"] = $"http://0.0.0.0:{httpPort}",
            ["Orleans:SiloPort"] = FreePort().ToString(),
            ["Orleans:GatewayPort"] = GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = ClusterId,
            ["DeliveryGrains:PartitionSize"] = "16",
            ["DeliveryGrains:FlushPeriod"] = "00:00:00.100",
            ["Mta:Kind"] = "External",
            ["Api:MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),

            // R9 end to end in few events: the second counted soft bounce quarantines, and every error counts.
            ["Quarantine:MaxErrors"] = MaxErrors.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Quarantine:SignificantErrorInterval"] = "00:00:00",
            ["Security:Users:0:Name"] = "admin",
            ["Security:Users:0:ApiKey"] = AdminKey,
            ["Security:Users:0:Roles:0"] = "PrepareDeliveries",
            ["Security:Users:0:Roles:1"] = "StartDeliveries",
            ["Security:Users:0:Roles:2"] = "Administration",
            ["Security:Users:0:Roles:3"] = "MtaFeedback",
            ["Security:Users:1:Name"] = "marketer",
            ["Security:Users:1:ApiKey"] = MarketerKey,
            ["Security:Users:1:Roles:0"] = "PrepareDeliveries",
            ["Security:Users:2:Name"] = "supervisor",
            ["Security:Users:2:ApiKey"] = SupervisorKey,
            ["Security:Users:2:Roles:0"] = "StartDeliveries",
            ["Security:Users:3:Name"] = "mta",
            ["Security:Users:3:ApiKey"] = MtaKey,
            ["Security:Users:3:Roles:0"] = "MtaFeedback",
            ["Security:Users:4:Name"] = "other-marketer",
            ["Security:Users:4:ApiKey"] = OtherMarketerKey,
            ["Security:Users:4:Roles:0"] = "PrepareDeliveries",
            ["Security:Users:5:Name"] = "monitor",
            ["Security:Users:5:ApiKeySha256"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(MonitorKey))),
            ["Security:Users:5:Roles:0"] = "Monitoring",
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

    /// <summary>A silo host built as Program.cs builds it, on <paramref name="settings"/>, started.</summary>
    internal static async Task<WebApplication> StartSiloAsync(IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddDeliverySilo().AddDeliveryApi();
        var app = builder.Build();
        app.MapDeliveryApi();
        await app.StartAsync();
        return app;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiHostFixture>
{
    public const string Name = "api";
}
