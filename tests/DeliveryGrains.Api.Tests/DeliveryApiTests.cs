using System.Net;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class DeliveryApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Creating_answers_201_with_Location_and_the_view_in_the_contract_names()
    {
        using var response = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery());
        var view = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = view.GetProperty("id").GetString();
        Assert.Equal($"/api/deliveries/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Draft", view.Status());
        Assert.Equal("Email", view.GetProperty("channel").GetString());
        Assert.Equal("3.12:00:00", view.GetProperty("validityPeriod").GetString());
        foreach (var kpi in new[] { "toDeliver", "sent", "delivered", "deliveredRate", "bouncesAndErrors", "bouncesAndErrorsRate", "opens", "openRate", "clicks", "clickThroughRate", "pending", "awaitingRetry", "computedAt" })
        {
            Assert.True(view.GetProperty("kpis").TryGetProperty(kpi, out _), $"kpis.{kpi} is missing");
        }
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Bad_input_is_400_listing_every_bad_field_and_creates_nothing()
    {
        var body = Bodies.Delivery(tweak: b =>
        {
            b["name"] = "";
            b["validityPeriod"] = "-00:00:05";
            b["maxRetries"] = 99;
            b["generatedTarget"] = new JsonObject { ["count"] = 10, ["seed"] = 1, ["domain"] = "example.test" };
            b["mta"] = new JsonObject { ["kind"] = "Simulated", ["hardBounceRate"] = 1.5 };
        });

        var problem = await Admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "name", "validityPeriod", "maxRetries", "recipients", "mta.hardBounceRate" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"errors.{field} is missing from {problem}");
        }
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task A_duplicate_profile_in_the_target_names_its_place()
    {
        var body = Bodies.Delivery(tweak: b => ((JsonArray)b["recipients"]!).Add(new JsonObject { ["profileId"] = "p-0", ["address"] = "x@example.test" }));

        var problem = await Admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("recipients[3].profileId", out _));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Unreadable_json_is_a_400_problem()
    {
        using var content = new StringContent("{ \"name\": ", System.Text.Encoding.UTF8, "application/json");
        var problem = await Admin.PostAsync("/api/deliveries", content).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Equal(400, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task An_unknown_delivery_is_404_on_every_call()
    {
        var id = Guid.NewGuid().ToString("N");

        await Admin.GetAsync($"/api/deliveries/{id}").ExpectAsync(HttpStatusCode.NotFound);
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.NotFound);
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.NotFound);
        await Admin.GetAsync($"/api/deliveries/{id}/logs").ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    [Trait("Rule", "R2.3")]
    public async Task Confirming_a_Draft_is_409_and_changes_nothing()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());

        var problem = await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Conflict);

        Assert.Contains("prepare", problem.GetProperty("detail").GetString());
        Assert.Equal("Draft", (await Admin.ViewAsync(id)).Status());
    }

    [Fact]
    [Trait("Rule", "R2.5")]
    public async Task Concurrent_confirms_start_the_delivery_once()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery(recipients: 20));
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm")));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var view = await Admin.UntilAsync(id, v => v.Kpi("sent") == 20);
        var logs = await Admin.GetAsync($"/api/deliveries/{id}/logs?limit=100").ExpectAsync(HttpStatusCode.OK);
        Assert.All(logs.GetProperty("items").EnumerateArray(), log => Assert.Equal(1, log.GetProperty("attempts").GetInt32()));
        Assert.Equal(20, view.Kpi("toDeliver"));
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R2.2")]
    public async Task Prepare_answers_toDeliver_and_the_exclusions_by_reason()
    {
        var body = Bodies.Delivery(tweak: b => b["recipients"] = new JsonArray
        {
            new JsonObject { ["profileId"] = "a", ["address"] = "ann@example.test" },
            new JsonObject { ["profileId"] = "b", ["address"] = "" },
            new JsonObject { ["profileId"] = "c", ["address"] = "not-an-address" },
            new JsonObject { ["profileId"] = "d", ["address"] = "ann@EXAMPLE.test" },
            new JsonObject { ["profileId"] = "e", ["address"] = "Ann@example.test" },
        });
        var id = await Admin.CreateAsync(body);

        var prepared = await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(2, prepared.GetProperty("toDeliver").GetInt64());
        var excluded = prepared.GetProperty("excluded");
        Assert.Equal(1, excluded.GetProperty("AddressEmpty").GetInt32());
        Assert.Equal(1, excluded.GetProperty("InvalidAddress").GetInt32());
        Assert.Equal(1, excluded.GetProperty("Duplicate").GetInt32());
        var exclusions = await Admin.GetAsync($"/api/deliveries/{id}/exclusions").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(exclusions.EnumerateArray(), e => e.GetProperty("profileId").GetString() == "d" && e.GetProperty("reason").GetString() == "Duplicate");
        Assert.Equal("Ready", (await Admin.ViewAsync(id)).Status());
    }

    [Fact]
    [Trait("Rule", "R2.4")]
    public async Task Patching_the_target_of_a_Ready_delivery_sends_it_back_to_Draft()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/deliveries/{id}")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { recipients = new[] { new { profileId = "z", address = "z@example.test" } } }),
        };
        var view = await Admin.SendAsync(patch).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("Draft", view.Status());
        Assert.Equal(1, view.GetProperty("targetSize").GetInt32());
    }

    [Fact]
    [Trait("Rule", "R7.2")]
    public async Task A_longer_validity_is_capped_and_the_response_says_so()
    {
        var view = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b => b["validityPeriod"] = "5.00:00:00"))
            .ExpectAsync(HttpStatusCode.Created);

        Assert.Equal("3.12:00:00", view.GetProperty("validityPeriod").GetString());
        Assert.Contains(view.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("capped"));
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    [Trait("Rule", "R3.4")]
    public async Task A_recurring_delivery_lists_its_executions_and_an_aggregated_one_has_a_summed_view()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 2, tweak: b =>
        {
            b["validityPeriod"] = "00:00:05";
            b["recurrence"] = new JsonObject { ["every"] = "00:00:01", ["count"] = 2, ["aggregationPeriod"] = "Day" };
        }));

        var template = await Admin.ViewAsync(id);
        Assert.Equal("InProgress", template.Status());
        Assert.Equal("Day", template.GetProperty("recurrence").GetProperty("aggregationPeriod").GetString());
        var executions = await Eventually.Until(
            () => Admin.GetAsync($"/api/deliveries/{id}/executions").ExpectAsync(HttpStatusCode.OK),
            e => e.GetArrayLength() == 1 && e[0].GetProperty("kpis").GetProperty("sent").GetInt64() == 4,
            "one execution that sent 4", TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));

        var period = Assert.Single(executions.EnumerateArray());
        var periodId = period.GetProperty("id").GetString()!;
        Assert.StartsWith(id + "~", periodId);
        Assert.Equal(4, period.GetProperty("kpis").GetProperty("sent").GetInt64());
        var summed = await Admin.ViewAsync(periodId);
        Assert.Equal(4, summed.Kpi("toDeliver"));

        var bad = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b => b["recurrence"] = new JsonObject { ["every"] = "00:00:00", ["count"] = 0 }))
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("recurrence.count", out _));
        await Admin.GetAsync($"/api/deliveries/{await Admin.CreateAsync(Bodies.Delivery())}/executions").ExpectAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Pause_resume_and_stop_answer_202_with_the_view_and_409_where_the_status_does_not_allow_it()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(tweak: b => b["emailFeedbackService"] = true));

        var paused = await Admin.PostEmptyAsync($"/api/deliveries/{id}/pause").ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal("Paused", paused.Status());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/pause").ExpectAsync(HttpStatusCode.Conflict);
        var resumed = await Admin.PostEmptyAsync($"/api/deliveries/{id}/resume").ExpectAsync(HttpStatusCode.Accepted);
        Assert.Contains(resumed.Status(), new[] { "InProgress", "Sent" });
        var forbidden = await host.Client(ApiHostFixture.MarketerKey).PostEmptyAsync($"/api/deliveries/{id}/stop").ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Contains("StartDeliveries", forbidden.GetProperty("detail").GetString());
        var stopped = await Admin.PostEmptyAsync($"/api/deliveries/{id}/stop").ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal("Stopped", stopped.Status());
        var problem = await Admin.PostEmptyAsync($"/api/deliveries/{id}/resume").ExpectAsync(HttpStatusCode.Conflict);
        Assert.Contains("stopped for good", problem.GetProperty("detail").GetString());
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task A_delivery_with_sendAt_is_Scheduled_after_confirmation_and_starts_then()
    {
        var sendAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var id = await Admin.CreateAsync(Bodies.Delivery(tweak: b => b["sendAt"] = sendAt));
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var scheduled = await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal("Scheduled", scheduled.Status());
        Assert.Equal(0, scheduled.Kpi("sent"));
        var started = await Admin.UntilAsync(id, v => v.Kpi("sent") == 3);
        Assert.True(DateTimeOffset.UtcNow >= sendAt);
        Assert.Contains(started.Status(), new[] { "InProgress", "Sent" });
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Compute_stats_answers_the_recounted_kpis()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 5));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 5);

        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(5, kpis.GetProperty("toDeliver").GetInt64());
        Assert.Equal(5, kpis.GetProperty("sent").GetInt64());
        Assert.Equal(100.0, kpis.GetProperty("deliveredRate").GetDouble());
    }

    [Fact]
    public async Task The_OpenAPI_document_and_the_dashboard_are_served()
    {
        var client = host.Client(null);
        var openApi = await client.GetAsync("/openapi/v1.json").ExpectAsync(HttpStatusCode.OK);
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/deliveries/{id}/confirm", out _));

        using var monitor = host.Client(ApiHostFixture.MonitorKey);
        using var dashboard = await monitor.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }
}

[Collection(ApiCollection.Name)]
public sealed class MetricsTests(ApiHostFixture host)
{
    [Fact]
    [Trait("Area", "Metrics")]
    [Trait("Rule", "R8")]
    public async Task The_silo_exports_its_counters_in_Prometheus_format()
    {
        var admin = host.Client(ApiHostFixture.AdminKey);
        var id = await admin.StartAsync(Bodies.Delivery(recipients: 2));
        await admin.UntilAsync(id, v => v.Kpi("sent") == 2);
        await admin.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(id, "p-0", "Delivered") }).ExpectAsync(HttpStatusCode.Accepted);

        // The exporter caches a scrape briefly: read until the counters of this run show up, with a bound.
        var text = await Eventually.Until(
            () => host.Client(ApiHostFixture.MonitorKey).GetStringAsync("/metrics"),
            t => t.Contains("deliverygrains_feedback_applied"),
            "the feedback counter in /metrics", TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));

        Assert.Contains("deliverygrains_messages_relayed", text);
        Assert.Contains("deliverygrains_feedback_applied", text);
        Assert.Contains("type=\"Delivered\"", text);
        Assert.Contains("# TYPE", text);
    }
}
