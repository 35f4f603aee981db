using System.Text.Json.Nodes;

namespace DeliveryGrains.TestKit.Http;

/// <summary>Request bodies of the HTTP contract, with its names (API.md).</summary>
public static class Bodies
{
    /// <summary>
    /// A delivery to <paramref name="recipients"/> profiles <c>{prefix}-0…</c> at unique addresses: Email, no
    /// feedback service, valid 3.5 days, retried hourly up to 5 times, an External MTA;
    /// <paramref name="tweak"/> edits it before sending.
    /// </summary>
    public static JsonObject Delivery(int recipients = 3, Action<JsonObject>? tweak = null, string prefix = "p")
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

    /// <summary>An inline target.</summary>
    public static JsonArray Target(params (string ProfileId, string Address)[] recipients) =>
        [.. recipients.Select(r => (JsonNode)new JsonObject { ["profileId"] = r.ProfileId, ["address"] = r.Address })];

    /// <summary>One MTA feedback event, at the current time, under a fresh event id unless one is given.</summary>
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
