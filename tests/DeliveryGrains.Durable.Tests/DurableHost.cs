using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
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
    public const string AdminKey = "admin-key";
    public const string ServiceId = "durable-tests";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly WebApplication _app;
    private bool _stopped;

    private DurableHost(WebApplication app, Uri address) => (_app, Address) = (app, address);

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<DurableHost> StartAsync(string connectionString, IDictionary<string, string?>? extra = null)
    {
        var httpPort = PostgresServer.FreePort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{httpPort}",
            ["DeliveryGrains:Storage"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:ClusterId"] = "durable-tests",
            ["Orleans:ServiceId"] = ServiceId,
            ["DeliveryGrains:PartitionSize"] = "16",
            ["DeliveryGrains:FlushPeriod"] = "00:00:00.100",
            ["Mta:Kind"] = "External",
            ["Security:Users:0:Name"] = "admin",
            ["Security:Users:0:ApiKey"] = AdminKey,
            ["Security:Users:0:Roles:0"] = "PrepareDeliveries",
            ["Security:Users:0:Roles:1"] = "StartDeliveries",
            ["Security:Users:0:Roles:2"] = "Administration",
            ["Security:Users:0:Roles:3"] = "MtaFeedback",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
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

    public HttpClient Admin()
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

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

/// <summary>Calls of the HTTP contract (names as in API.md).</summary>
public static class Api
{
    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.PostAsync(path, JsonContent.Create(body, options: DurableHost.Json));

    /// <summary>Creates, prepares and confirms a delivery to <paramref name="recipients"/> profiles p-0…; answers its id.</summary>
    public static async Task<string> StartDeliveryAsync(
        this HttpClient admin, int recipients, string validity, bool emailFeedbackService, DateTimeOffset? sendAt = null, string retryPeriod = "01:00:00")
    {
        var body = new
        {
            name = "Durable",
            channel = "Email",
            emailFeedbackService,
            validityPeriod = validity,
            retryPeriod,
            sendAt,
            maxRetries = 5,
            recipients = Enumerable.Range(0, recipients).Select(i => new { profileId = $"p-{i}", address = $"p{i}.{Guid.NewGuid():N}@example.test" }).ToArray(),
            mta = new { kind = "External" },
        };
        var created = await admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        await admin.PostAsync($"/api/deliveries/{id}/prepare", null).ExpectAsync(HttpStatusCode.OK);
        await admin.PostAsync($"/api/deliveries/{id}/confirm", null).ExpectAsync(HttpStatusCode.Accepted);
        return id;
    }

    public static Task<JsonElement> ViewAsync(this HttpClient client, string id) =>
        client.GetAsync($"/api/deliveries/{id}").ExpectAsync(HttpStatusCode.OK);

    public static async Task<JsonElement> UntilAsync(this HttpClient client, string id, Func<JsonElement, bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        JsonElement view;
        do
        {
            view = await client.ViewAsync(id);
            if (condition(view))
            {
                return view;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"Condition not met within the bound; last view: {view}");
        return view;
    }

    public static long Kpi(this JsonElement view, string name) => view.GetProperty("kpis").GetProperty(name).GetInt64();

    public static string Status(this JsonElement view) => view.GetProperty("status").GetString()!;

    public static object Event(string deliveryId, string profileId, string type, string? reason = null) => new
    {
        eventId = Guid.NewGuid().ToString("N"),
        deliveryId,
        profileId,
        type,
        reason,
        at = DateTimeOffset.UtcNow,
    };
}
