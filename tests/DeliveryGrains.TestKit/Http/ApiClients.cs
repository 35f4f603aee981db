using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeliveryGrains.TestKit.Http;

/// <summary>HTTP clients of a silo's API, as an outside tool holds them.</summary>
public static class ApiClients
{
    /// <summary>The contract's JSON: web names (camelCase), enums as their names.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>A client of <paramref name="baseAddress"/> sending <c>X-Api-Key</c> when <paramref name="apiKey"/> is given; 30 s per call unless told.</summary>
    public static HttpClient Create(Uri baseAddress, string? apiKey, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }
}
