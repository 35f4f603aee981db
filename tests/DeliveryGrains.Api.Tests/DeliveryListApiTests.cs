using System.Net;
using System.Text.Json;

namespace DeliveryGrains.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class DeliveryListApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    [Fact]
    [Trait("Rule", "R8")]
    public async Task The_list_is_newest_first_with_a_cursor_to_the_next_page()
    {
        var tag = Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await Admin.CreateAsync(Bodies.Delivery(tweak: b => b["name"] = $"List {tag} {i}")));
        }

        var first = await Admin.GetAsync($"/api/deliveries?q={tag}&limit=2").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([ids[2], ids[1]], Ids(first));
        var next = first.GetProperty("next").GetString();
        Assert.NotNull(next);

        var second = await Admin.GetAsync($"/api/deliveries?q={tag}&limit=2&after={next}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([ids[0]], Ids(second));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        var item = second.GetProperty("items")[0];
        Assert.Equal($"List {tag} 0", item.Str("name"));
        Assert.Equal("Draft", item.Status());
        Assert.True(item.GetProperty("kpis").TryGetProperty("toDeliver", out _));
    }

    [Fact]
    [Trait("Rule", "R8")]
    public async Task The_list_filters_by_status_channel_and_a_part_of_the_name_in_any_case()
    {
        var tag = Guid.NewGuid().ToString("N");
        var email = await Admin.CreateAsync(Bodies.Delivery(tweak: b => b["name"] = $"Filter {tag} mail"));
        var sms = await Admin.CreateAsync(Bodies.Delivery(tweak: b =>
        {
            b["name"] = $"Filter {tag} text";
            b["channel"] = "Sms";
            b["recipients"] = Bodies.Target(("s-1", Unique.Phone()));
        }));
        await Admin.PostEmptyAsync($"/api/deliveries/{email}/prepare").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal([email], Ids(await Admin.GetAsync($"/api/deliveries?q={tag}&status=Ready").ExpectAsync(HttpStatusCode.OK)));
        Assert.Equal([sms], Ids(await Admin.GetAsync($"/api/deliveries?q={tag}&status=draft").ExpectAsync(HttpStatusCode.OK)));
        Assert.Equal([sms], Ids(await Admin.GetAsync($"/api/deliveries?q={tag}&channel=Sms").ExpectAsync(HttpStatusCode.OK)));
        Assert.Equal([email], Ids(await Admin.GetAsync($"/api/deliveries?q=FILTER%20{tag.ToUpperInvariant()}%20MAIL").ExpectAsync(HttpStatusCode.OK)));
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task Any_authenticated_user_may_list_and_no_one_else()
    {
        await host.Client(ApiHostFixture.MtaKey).GetAsync("/api/deliveries?limit=1").ExpectAsync(HttpStatusCode.OK);
        await host.Client(null).GetAsync("/api/deliveries").ExpectAsync(HttpStatusCode.Unauthorized);
        await host.Client(null).GetAsync($"/api/deliveries/{Guid.NewGuid():N}/timeline").ExpectAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    [Trait("Rule", "R8")]
    public async Task Bad_list_values_are_a_400_naming_each_one()
    {
        var problem = await Admin.GetAsync("/api/deliveries?status=Sending&channel=Fax&after=x1&limit=0").ExpectAsync(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "status", "channel", "after", "limit" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"errors.{field} is missing from {problem}");
        }

        Assert.Contains("InProgress", errors.GetProperty("status")[0].GetString());
    }

    [Fact]
    [Trait("Rule", "R8")]
    public async Task The_timeline_follows_the_kpis_from_zero_at_the_start()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 4));

        var timeline = await UntilTimelineAsync(id, t => t.Count > 0 && t[^1].GetProperty("sent").GetInt64() == 4);

        Assert.Equal(0, timeline[0].GetProperty("sent").GetInt64());
        foreach (var field in new[] { "at", "sent", "delivered", "bouncesAndErrors", "opens", "clicks", "pending", "awaitingRetry" })
        {
            Assert.True(timeline[^1].TryGetProperty(field, out _), $"points[].{field} is missing");
        }

        var instants = timeline.Select(p => p.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(instants.Order(), instants);
    }

    [Fact]
    [Trait("Rule", "R8")]
    public async Task A_delivery_not_started_has_an_empty_timeline_and_an_unknown_one_is_404()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());

        var timeline = await Admin.GetAsync($"/api/deliveries/{id}/timeline").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, timeline.GetProperty("points").GetArrayLength());
        await Admin.GetAsync($"/api/deliveries/{Guid.NewGuid():N}/timeline").ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    [Trait("Rule", "R8")]
    public async Task The_openapi_document_lists_the_list_and_the_timeline()
    {
        var document = await Admin.GetAsync("/openapi/v1.json").ExpectAsync(HttpStatusCode.OK);
        var paths = document.GetProperty("paths");

        Assert.True(paths.GetProperty("/api/deliveries").TryGetProperty("get", out _));
        Assert.True(paths.TryGetProperty("/api/deliveries/{id}/timeline", out _));
    }

    private static List<string> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(i => i.Str("id")).ToList();

    private Task<List<JsonElement>> UntilTimelineAsync(string id, Func<List<JsonElement>, bool> condition) =>
        Eventually.Until(
            async () => (List<JsonElement>)[.. (await Admin.GetAsync($"/api/deliveries/{id}/timeline").ExpectAsync(HttpStatusCode.OK)).GetProperty("points").EnumerateArray()],
            condition, $"the timeline of {id} to meet the condition", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
}
