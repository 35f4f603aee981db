using DeliveryGrains.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// The real silo host (as Program.cs builds it) in durable mode on a given database: Kestrel on a
/// free loopback port, the silo clustering, reminders and state on PostgreSQL. Several hosts started
/// one after another on the same database and service id are restarts of the same service.
/// </summary>
public sealed class DurableHost : IAsyncDisposable
{
    public const string AdminKey = SiloProcess.AdminKey;
    public const string ServiceId = "durable-tests";

    private readonly WebApplication _app;
    private bool _stopped;

    private DurableHost(WebApplication app, Uri address) => (_app, Address) = (app, address);

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<DurableHost> StartAsync(string connectionString, IDictionary<string, string?>? extra = null)
    {
        var httpPort = FreePort.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{httpPort}",
            ["DeliveryGrains:Storage"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Orleans:SiloPort"] = FreePort.Next().ToString(),
            ["Orleans:GatewayPort"] = FreePort.Next().ToString(),
            ["Orleans:ClusterId"] = "durable-tests",
            ["Orleans:ServiceId"] = ServiceId,
            ["DeliveryGrains:PartitionSize"] = "16",
            ["DeliveryGrains:FlushPeriod"] = "00:00:00.100",
            ["Mta:Kind"] = "External",
        };
        foreach (var (key, value) in ApiUser.Settings([ApiUser.Administrator(AdminKey)]).Concat(extra ?? new Dictionary<string, string?>()))
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddDeliverySilo().AddDeliveryApi();
        var app = builder.Build();
        app.MapDeliveryApi();
        await app.StartAsync();
        return new DurableHost(app, new Uri($"http://127.0.0.1:{httpPort}"));
    }

    public HttpClient Admin() => ApiClients.Create(Address, AdminKey);

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DurableCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "durable";
}
