using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

/// <summary>Calls of the HTTP contract as an outside tool makes them: JSON in, JSON out, names as in API.md.</summary>
public static class ApiTestKit
{
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.PostAsync(path, JsonContent.Create(body, options: ApiHostFixture.Json));

    public static Task<HttpResponseMessage> PostEmptyAsync(this HttpClient client, string path) => client.PostAsync(path, null);

    /// <summary>A delivery body with the contract's names; <paramref name="tweak"/> edits it before sending.</summary>
    public static JsonObject DeliveryBody(int recipients = 3, Action<JsonObject>? tweak = null, string prefix = "p")
    {
        var target = new JsonArray();
        for (var i = 0; i < recipients; i++)
        {
            target.Add(new JsonObject { ["profileId"] = $"{prefix}-{i}", ["address"] = $"{prefix}{i}.{Guid.NewGuid():N}@example.test" });
        }

        var body = new JsonObject
        {
            ["name"] = "Black Friday",
            ["channel"] = "Email",
            ["emailFeedbackService"] = false,
            ["validityPeriod"] = "3.12:00:00",
            ["retryPeriod"] = "01:00:00",
            ["maxRetries"] = 5,
            ["recipients"] = target,
            ["mta"] = new JsonObject { ["kind"] = "External" },
        };
        tweak?.Invoke(body);
        return body;
    }

    public static async Task<string> CreateAsync(this HttpClient client, JsonObject body)
    {
        var created = await client.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.Created);
        return created.GetProperty("id").GetString()!;
    }

    /// <summary>Creates, prepares and confirms; answers the delivery id.</summary>
    public static async Task<string> StartAsync(this HttpClient admin, JsonObject body)
    {
        var id = await admin.CreateAsync(body);
        await admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        await admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);
        return id;
    }

    public static Task<JsonElement> ViewAsync(this HttpClient client, string id) =>
        client.GetAsync($"/api/deliveries/{id}").ExpectAsync(HttpStatusCode.OK);

    /// <summary>Polls the delivery view until <paramref name="condition"/> holds, failing after <paramref name="within"/>.</summary>
    public static async Task<JsonElement> UntilAsync(this HttpClient client, string id, Func<JsonElement, bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
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

    /// <summary>An E.164 number no other test uses: '+8' and 14 random digits.</summary>
    public static string Phone() =>
        "+8" + Random.Shared.NextInt64(10_000_000_000_000, 100_000_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An inline target with the contract's names.</summary>
    public static JsonArray Target(params (string ProfileId, string Address)[] recipients) =>
        [.. recipients.Select(r => (JsonNode)new JsonObject { ["profileId"] = r.ProfileId, ["address"] = r.Address })];

    public static Task<JsonElement> AddressAsync(this HttpClient client, string address) =>
        client.GetAsync($"/api/addresses/{Uri.EscapeDataString(address)}").ExpectAsync(HttpStatusCode.OK);

    /// <summary>Polls <c>GET /api/addresses/{address}</c> until <paramref name="condition"/> holds (address events reach the quarantine on a partition flush).</summary>
    public static async Task<JsonElement> AddressUntilAsync(this HttpClient client, string address, Func<JsonElement, bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        JsonElement record;
        do
        {
            record = await client.AddressAsync(address);
            if (condition(record))
            {
                return record;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"Condition not met within the bound; last record: {record}");
        return record;
    }

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;

    public static long Kpi(this JsonElement view, string name) => view.GetProperty("kpis").GetProperty(name).GetInt64();

    public static double Rate(this JsonElement view, string name) => view.GetProperty("kpis").GetProperty(name).GetDouble();

    public static string Status(this JsonElement view) => view.GetProperty("status").GetString()!;

    public static object Event(string deliveryId, string profileId, string type, string? reason = null, string? eventId = null) => new
    {
        eventId = eventId ?? Guid.NewGuid().ToString("N"),
        deliveryId,
        profileId,
        type,
        reason,
        at = DateTimeOffset.UtcNow,
    };
}
