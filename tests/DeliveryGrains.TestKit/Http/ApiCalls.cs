using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeliveryGrains.TestKit.Waiting;

namespace DeliveryGrains.TestKit.Http;

/// <summary>Calls of the HTTP contract as an outside tool makes them: JSON in, JSON out, names as in API.md.</summary>
public static class ApiCalls
{
    /// <summary>Bound of <see cref="UntilAsync"/> unless told: a delivery's view moves on the partitions' flushes.</summary>
    public static readonly TimeSpan ViewTimeout = TimeSpan.FromSeconds(15);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Fails the test unless the call answers <paramref name="status"/>; answers the body's JSON (default when empty).</summary>
    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.PostAsync(path, JsonContent.Create(body, options: ApiClients.Json));

    public static Task<HttpResponseMessage> PostEmptyAsync(this HttpClient client, string path) => client.PostAsync(path, null);

    /// <summary>Creates a delivery; answers its id.</summary>
    public static async Task<string> CreateAsync(this HttpClient client, object body)
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

    /// <summary>Polls the delivery view until <paramref name="condition"/> holds, failing after <paramref name="within"/> (15 s unless told).</summary>
    public static Task<JsonElement> UntilAsync(this HttpClient client, string id, Func<JsonElement, bool> condition, TimeSpan? within = null) =>
        Eventually.Until(() => client.ViewAsync(id), condition, $"the view of delivery {id} to meet the condition", within ?? ViewTimeout);

    public static Task<JsonElement> AddressAsync(this HttpClient client, string address) =>
        client.GetAsync($"/api/addresses/{Uri.EscapeDataString(address)}").ExpectAsync(HttpStatusCode.OK);

    /// <summary>Polls <c>GET /api/addresses/{address}</c> until <paramref name="condition"/> holds (address events reach the quarantine on a partition flush); 10 s unless told.</summary>
    public static Task<JsonElement> AddressUntilAsync(this HttpClient client, string address, Func<JsonElement, bool> condition, TimeSpan? within = null) =>
        Eventually.Until(() => client.AddressAsync(address), condition, $"the record of {address} to meet the condition", within);

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;

    public static long Kpi(this JsonElement view, string name) => view.GetProperty("kpis").GetProperty(name).GetInt64();

    public static double Rate(this JsonElement view, string name) => view.GetProperty("kpis").GetProperty(name).GetDouble();

    public static string Status(this JsonElement view) => view.GetProperty("status").GetString()!;
}
