using System.Net;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class FeedbackApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private async Task<JsonElementAlias> PostFeedbackAsync(params object[] events) =>
        new(await Mta.PostJsonAsync("/api/mta/feedback", events).ExpectAsync(HttpStatusCode.Accepted));

    [Fact]
    [Trait("Rule", "R5.1")]
    [Trait("Rule", "R5.2")]
    public async Task Without_EFS_relayed_is_Sent_and_a_hard_bounce_fails_the_message()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 4));
        var relayed = await Admin.UntilAsync(id, v => v.Kpi("sent") == 4);
        Assert.Equal(100.0, relayed.Rate("deliveredRate"));

        var result = await PostFeedbackAsync(Bodies.Event(id, "p-0", "HardBounce", "UserUnknown"));

        Assert.Equal(1, result.Json.GetProperty("accepted").GetInt32());
        var view = await Admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1);
        Assert.Equal(75.0, view.Rate("deliveredRate"));
        Assert.Equal(25.0, view.Rate("bouncesAndErrorsRate"));
        var log = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Failed", log.GetProperty("status").GetString());
        Assert.Equal("Hard", log.GetProperty("failureType").GetString());
        Assert.Equal("UserUnknown", log.GetProperty("failureReason").GetString());
    }

    [Fact]
    [Trait("Rule", "R6.1")]
    [Trait("Rule", "R6.2")]
    [Trait("Rule", "R6.4")]
    public async Task With_EFS_logs_wait_in_Pending_until_the_MTA_answers()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 2, tweak: b => b["emailFeedbackService"] = true));
        var pending = await Admin.UntilAsync(id, v => v.Kpi("sent") == 2);
        Assert.Equal(2, pending.Kpi("pending"));
        Assert.Equal(0.0, pending.Rate("deliveredRate"));

        await PostFeedbackAsync(
            Bodies.Event(id, "p-0", "Delivered"),
            Bodies.Event(id, "p-1", "SoftBounce", "MailboxFull"));

        var view = await Admin.UntilAsync(id, v => v.Kpi("pending") == 0 && v.Kpi("awaitingRetry") == 1);
        Assert.Equal(1, view.Kpi("delivered"));
        Assert.Equal(1, view.Kpi("bouncesAndErrors"));
        var soft = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Failed", soft.GetProperty("status").GetString());
        Assert.Equal("Soft", soft.GetProperty("failureType").GetString());
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task A_repeated_event_id_is_a_duplicate_and_bad_events_are_rejected_by_index()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 2));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 2);
        var hard = Bodies.Event(id, "p-0", "HardBounce", "UserUnknown", eventId: "evt-" + id);

        var result = await PostFeedbackAsync(
            hard,
            hard,
            Bodies.Event(id, "nobody", "Delivered"),
            Bodies.Event(id, "p-1", "Bounced"),
            new { deliveryId = id, profileId = "p-1", type = "Open" });

        Assert.Equal(1, result.Json.GetProperty("accepted").GetInt32());
        Assert.Equal(1, result.Json.GetProperty("duplicates").GetInt32());
        var rejected = result.Json.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([2, 3, 4], rejected.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Contains("nobody", rejected[0].GetProperty("error").GetString());
        Assert.Contains("Bounced", rejected[1].GetProperty("error").GetString());
        Assert.Contains("eventId", rejected[2].GetProperty("error").GetString());
        var view = await Admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1);
        Assert.Equal(1, view.Kpi("delivered"));
    }

    [Fact]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "R8.3")]
    public async Task At_the_end_of_the_validity_period_EFS_pending_messages_fail_as_Expired()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 3, tweak: b =>
        {
            b["emailFeedbackService"] = true;
            b["validityPeriod"] = "00:00:02";
        }));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 3);
        await PostFeedbackAsync(Bodies.Event(id, "p-0", "Delivered"));

        var finished = await Admin.UntilAsync(id, v => v.Status() == "Finished", TimeSpan.FromSeconds(20));

        Assert.Equal(1, finished.Kpi("delivered"));
        Assert.Equal(2, finished.Kpi("bouncesAndErrors"));
        Assert.Equal(0, finished.Kpi("pending"));
        var expired = await Admin.GetAsync($"/api/deliveries/{id}/logs?status=Failed").ExpectAsync(HttpStatusCode.OK);
        Assert.All(expired.GetProperty("items").EnumerateArray(), log => Assert.Equal("Expired", log.GetProperty("failureReason").GetString()));
        Assert.Equal(2, expired.GetProperty("items").GetArrayLength());

        // The Reports section's grouping: the two expired messages, under their type and reason (R8.3).
        var bounces = await Admin.GetAsync($"/api/deliveries/{id}/bounces").ExpectAsync(HttpStatusCode.OK);
        var group = Assert.Single(bounces.EnumerateArray());
        Assert.Equal(("Expired", 2L), (group.GetProperty("reason").GetString(), group.GetProperty("count").GetInt64()));
    }

    [Fact]
    [Trait("Rule", "R7.4")]
    public async Task Feedback_after_the_final_status_changes_nothing_but_tracking()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 1, tweak: b => b["emailFeedbackService"] = true));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 1);
        await PostFeedbackAsync(Bodies.Event(id, "p-0", "Delivered"));
        await Admin.UntilAsync(id, v => v.Kpi("delivered") == 1);

        await PostFeedbackAsync(Bodies.Event(id, "p-0", "HardBounce", "UserUnknown"), Bodies.Event(id, "p-0", "Click"));

        var log = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Sent", log.GetProperty("status").GetString());
        Assert.True(log.GetProperty("clicked").GetBoolean());
        Assert.True(log.GetProperty("opened").GetBoolean());
        var stats = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, stats.GetProperty("bouncesAndErrors").GetInt64());
        Assert.Equal(1, stats.GetProperty("clicks").GetInt64());
        Assert.Equal(100.0, stats.GetProperty("clickThroughRate").GetDouble());
    }

    [Fact]
    [Trait("Rule", "R9.1")]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R10.1")]
    public async Task A_hard_bounce_quarantines_the_address_which_later_deliveries_exclude_until_released()
    {
        var address = $"gone.{Guid.NewGuid():N}@Example.TEST";
        var profile = $"prof-{Guid.NewGuid():N}";
        JsonObject Target(JsonObject b)
        {
            b["recipients"] = new JsonArray { new JsonObject { ["profileId"] = profile, ["address"] = address } };
            return b;
        }

        var first = await Admin.StartAsync(Target(Bodies.Delivery()));
        await Admin.UntilAsync(first, v => v.Kpi("sent") == 1);
        await PostFeedbackAsync(Bodies.Event(first, profile, "HardBounce", "UserUnknown"));
        var status = await PollAddressAsync(address, "Quarantine");
        Assert.Equal("UserUnknown", status.GetProperty("reason").GetString());

        var second = await Admin.CreateAsync(Target(Bodies.Delivery()));
        var prepared = await Admin.PostEmptyAsync($"/api/deliveries/{second}/prepare").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, prepared.GetProperty("toDeliver").GetInt64());
        Assert.Equal(1, prepared.GetProperty("excluded").GetProperty("QuarantinedAddress").GetInt32());

        var history = await Admin.GetAsync($"/api/profiles/{profile}/history").ExpectAsync(HttpStatusCode.OK);
        var entry = Assert.Single(history.EnumerateArray());
        Assert.Equal(first, entry.GetProperty("deliveryId").GetString());
        Assert.Equal("Failed", entry.GetProperty("status").GetString());

        await host.Client(ApiHostFixture.MarketerKey).PostEmptyAsync($"/api/addresses/{Uri.EscapeDataString(address)}/release").ExpectAsync(HttpStatusCode.Forbidden);
        var released = await Admin.PostEmptyAsync($"/api/addresses/{Uri.EscapeDataString(address)}/release").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Valid", released.GetProperty("status").GetString());
        var again = await Admin.PostEmptyAsync($"/api/deliveries/{second}/prepare").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, again.GetProperty("toDeliver").GetInt64());
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Logs_page_with_a_cursor_and_filter_by_status()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 40));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 40);
        await PostFeedbackAsync(Bodies.Event(id, "p-7", "HardBounce"));
        await Admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1);

        var seen = new List<string>();
        string? next = null;
        do
        {
            var page = await Admin.GetAsync($"/api/deliveries/{id}/logs?limit=7" + (next is null ? "" : $"&after={next}")).ExpectAsync(HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("profileId").GetString()!));
            next = page.GetProperty("next").GetString();
        }
        while (next is not null);

        Assert.Equal(40, seen.Count);
        Assert.Equal(40, seen.Distinct().Count());
        var failed = await Admin.GetAsync($"/api/deliveries/{id}/logs?status=Failed").ExpectAsync(HttpStatusCode.OK);
        var only = Assert.Single(failed.GetProperty("items").EnumerateArray());
        Assert.Equal("p-7", only.GetProperty("profileId").GetString());
        Assert.Equal("NotDefined", only.GetProperty("failureReason").GetString());

        var problem = await Admin.GetAsync($"/api/deliveries/{id}/logs?status=Bounced&limit=0").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("status", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
        await Admin.GetAsync($"/api/deliveries/{id}/logs/nobody").ExpectAsync(HttpStatusCode.NotFound);
        await Admin.GetAsync($"/api/deliveries/{id}/logs?after=garbage").ExpectAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Logs_filter_by_failure_type_and_reason_and_search_by_profile_id_or_address()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 12));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 12);
        await PostFeedbackAsync(Bodies.Event(id, "p-3", "HardBounce", "UserUnknown"));
        await PostFeedbackAsync(Bodies.Event(id, "p-5", "SoftBounce", "MailboxFull"));
        await Admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1 && v.Kpi("awaitingRetry") == 1);

        var hard = await Admin.GetAsync($"/api/deliveries/{id}/logs?failureType=hard").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("p-3", Assert.Single(hard.GetProperty("items").EnumerateArray()).Str("profileId"));
        var full = await Admin.GetAsync($"/api/deliveries/{id}/logs?failureReason=MailboxFull").ExpectAsync(HttpStatusCode.OK);
        var soft = Assert.Single(full.GetProperty("items").EnumerateArray());
        Assert.Equal(("p-5", "Soft"), (soft.Str("profileId"), soft.Str("failureType")));

        var address = (await Admin.GetAsync($"/api/deliveries/{id}/logs/p-9").ExpectAsync(HttpStatusCode.OK)).Str("address");
        var found = await Admin.GetAsync($"/api/deliveries/{id}/logs?q={Uri.EscapeDataString(address.ToUpperInvariant())}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("p-9", Assert.Single(found.GetProperty("items").EnumerateArray()).Str("profileId"));
        var byId = await Admin.GetAsync($"/api/deliveries/{id}/logs?q=p-1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["p-1", "p-10", "p-11"], byId.GetProperty("items").EnumerateArray().Select(l => l.Str("profileId")).Order());

        var problem = await Admin.GetAsync($"/api/deliveries/{id}/logs?failureType=Bouncy&failureReason=Gone&q={new string('x', 201)}").ExpectAsync(HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Contains("Hard", errors.GetProperty("failureType")[0].GetString());
        Assert.Contains("MailboxFull", errors.GetProperty("failureReason")[0].GetString());
        Assert.True(errors.TryGetProperty("q", out _));
    }

    private Task<System.Text.Json.JsonElement> PollAddressAsync(string address, string status) =>
        Admin.AddressUntilAsync(address, r => r.GetProperty("status").GetString() == status);

    private sealed record JsonElementAlias(System.Text.Json.JsonElement Json);
}
