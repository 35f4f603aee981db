using DeliveryGrains.TestKit.Hosting;
using Microsoft.AspNetCore.Builder;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// The real silo host (as Program.cs builds it, <see cref="InProcessSilo"/>) in durable mode on a given
/// database: Kestrel on loopback, the silo clustering, reminders and state on PostgreSQL. Several hosts started
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
        var settings = new Dictionary<string, string?>
        {
            ["DeliveryGrains:Storage"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
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

        var silo = await InProcessSilo.StartAsync(settings);
        return new DurableHost(silo.App, silo.Address);
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
