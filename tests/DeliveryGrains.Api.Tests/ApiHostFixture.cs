using DeliveryGrains.TestKit.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// The real silo host (Kestrel, the Orleans silo, the dashboard), built with the same extension
/// methods as Program.cs (<see cref="InProcessSilo"/>) and started once for the whole collection.
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

    /// <summary>The bounce domain of the host's SMTP relay (VERP senders, Message-IDs, the unsubscribe mailbox).</summary>
    public const string BounceDomain = "bounces.example.com";

    private WebApplication? _app;

    /// <summary>The SMTP server the host's relay sends to: deliveries with <c>mta.kind</c> Smtp end up here.</summary>
    public DeliveryGrains.TestKit.Smtp.SmtpSink Smtp { get; } = new();

    /// <summary>The port of the host's inbound SMTP listener (DSN, ARF, unsubscribe mail).</summary>
    public int InboundPort => Services.GetRequiredService<DeliveryGrains.Mta.Smtp.DsnListener>().Port!.Value;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The silo's Orleans gateway port, for tests that connect as an Orleans client.</summary>
    public int GatewayPort { get; private set; }

    public const string ClusterId = "api-tests";

    /// <summary>The host's services, e.g. to record a metric the way a grain would.</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The host is not started.");

    /// <summary>The users of the host: one per role mix the tests need, the monitor's key configured only as its SHA-256.</summary>
    public static readonly IReadOnlyList<ApiUser> Users =
    [
        ApiUser.Administrator(AdminKey),
        new("marketer", MarketerKey, ["PrepareDeliveries"]),
        new("supervisor", SupervisorKey, ["StartDeliveries"]),
        new("mta", MtaKey, ["MtaFeedback"]),
        new("other-marketer", OtherMarketerKey, ["PrepareDeliveries"]),
        new("monitor", MonitorKey, ["Monitoring"], KeyAsSha256: true),
    ];

    public HttpClient Client(string? apiKey) => ApiClients.Create(BaseAddress, apiKey);

    /// <summary>The DKIM key (RSA, PEM) the host signs with (R13.6); its selector and domain.</summary>
    public string DkimKeyPem { get; } = System.Security.Cryptography.RSA.Create(2048).ExportRSAPrivateKeyPem();

    public const string DkimSelector = "api";
    public const string DkimDomain = "sender.example.com";

    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("api-dkim-");

    public async Task InitializeAsync()
    {
        await Smtp.StartAsync();
        var keyPath = Path.Combine(_keys.FullName, "dkim.pem");
        await File.WriteAllTextAsync(keyPath, DkimKeyPem);
        var settings = new Dictionary<string, string?>
        {
            // Every interface, as the docker-compose silos listen: monitoring then needs a role (docs/security.md).
            // Tests reach it through 127.0.0.1. One silo per test process: a second would share the engine's meter name.
            ["Urls"] = "http://0.0.0.0:0",
            ["Orleans:ClusterId"] = ClusterId,
            ["DeliveryGrains:PartitionSize"] = "16",
            ["DeliveryGrains:FlushPeriod"] = "00:00:00.100",
            ["Mta:Kind"] = "External",
            ["Api:MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),

            // R9 end to end in few events: the second counted soft bounce quarantines, and every error counts.
            ["Quarantine:MaxErrors"] = MaxErrors.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Quarantine:SignificantErrorInterval"] = "00:00:00",

            // R12, R13: a relay to the capturing server for deliveries with mta.kind Smtp (the default stays External),
            // and the inbound listener on a port of the system's choosing.
            ["Mta:Smtp:Host"] = "127.0.0.1",
            ["Mta:Smtp:Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mta:Smtp:StartTls"] = "None",
            ["Mta:Smtp:From"] = "News <news@sender.example.com>",
            ["Mta:Smtp:BounceDomain"] = BounceDomain,
            ["Mta:Dkim:Domain"] = DkimDomain,
            ["Mta:Dkim:Selector"] = DkimSelector,
            ["Mta:Dkim:PrivateKeyPath"] = keyPath,
            ["Mta:Inbound:Port"] = "0",
            ["Mta:Inbound:Address"] = "127.0.0.1",
        };
        foreach (var (key, value) in ApiUser.Settings(Users))
        {
            settings[key] = value;
        }

        var silo = await InProcessSilo.StartAsync(settings);
        (_app, BaseAddress, GatewayPort) = (silo.App, silo.Address, silo.GatewayPort);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await Smtp.DisposeAsync();
        _keys.Delete(recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiHostFixture>
{
    public const string Name = "api";
}
