using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

/// <summary>R11.2 over HTTP: SMS deliveries, and the inbound STOP that denylists a number.</summary>
[Collection(ApiCollection.Name)]
public sealed class SmsApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private static JsonObject SmsBody(JsonArray target, JsonObject? mta = null) => Bodies.Delivery(tweak: b =>
    {
        b["channel"] = "Sms";
        b["recipients"] = target;
        if (mta is not null)
        {
            b["mta"] = mta;
        }
    });

    private Task<JsonElement> InboundAsync(object body, HttpStatusCode expected = HttpStatusCode.Accepted) =>
        Mta.PostJsonAsync("/api/sms/inbound", body).ExpectAsync(expected);

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R8.4")]
    [Trait("Rule", "R2.2")]
    public async Task An_sms_delivery_runs_on_the_simulated_mta_and_shows_no_opens_or_clicks()
    {
        var numbers = Enumerable.Range(0, 10).Select(i => ($"s-{i}", Unique.Phone())).ToList();
        numbers.Add(("too-short", "+1234567"));
        numbers.Add(("national", "0612345678"));
        var simulator = new JsonObject
        {
            ["kind"] = "Simulated", ["hardBounceRate"] = 0, ["softBounceRate"] = 0,
            ["openRate"] = 1, ["clickRate"] = 1, ["feedbackDelay"] = "00:00:00",
        };

        var created = await Admin.PostJsonAsync("/api/deliveries", SmsBody(Bodies.Target([.. numbers]), simulator)).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("Sms", created.Str("channel"));
        var id = created.Str("id");
        var prepared = await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(10, prepared.GetProperty("toDeliver").GetInt64());
        Assert.Equal(2, prepared.GetProperty("excluded").GetProperty("InvalidAddress").GetInt32());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);

        await Admin.UntilAsync(id, v => v.Kpi("delivered") == 10);
        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(100.0, kpis.GetProperty("deliveredRate").GetDouble());
        foreach (var figure in new[] { "opens", "clicks", "openRate", "clickThroughRate" })
        {
            Assert.Equal(0.0, kpis.GetProperty(figure).GetDouble());
        }

        var logs = await Admin.GetAsync($"/api/deliveries/{id}/logs?limit=100").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(10, logs.GetProperty("items").GetArrayLength());
        Assert.All(logs.GetProperty("items").EnumerateArray(), log =>
            Assert.Equal(("Sent", false, false), (log.Str("status"), log.GetProperty("opened").GetBoolean(), log.GetProperty("clicked").GetBoolean())));
        var exclusions = await Admin.GetAsync($"/api/deliveries/{id}/exclusions").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["national", "too-short"], exclusions.EnumerateArray().Select(e => e.Str("profileId")).Order());
        Assert.All(exclusions.EnumerateArray(), e => Assert.Equal("InvalidAddress", e.Str("reason")));
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R2.1")]
    public async Task An_inbound_STOP_denylists_the_number_and_later_sms_deliveries_exclude_it()
    {
        var number = Unique.Phone();

        var answer = await InboundAsync(new { from = $" {number} ", text = "  stop\n" });

        Assert.Equal((number, "Denylisted"), (answer.Str("from"), answer.Str("action")));
        var record = await Admin.AddressAsync(number);
        Assert.Equal(("OnDenylist", "Denylisted"), (record.Str("status"), record.Str("reason")));
        var id = await Admin.CreateAsync(SmsBody(Bodies.Target(("stopped", number), ("other", Unique.Phone()))));
        var prepared = await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, prepared.GetProperty("toDeliver").GetInt64());
        Assert.Equal(1, prepared.GetProperty("excluded").GetProperty("Denylisted").GetInt32());
        var exclusion = Assert.Single((await Admin.GetAsync($"/api/deliveries/{id}/exclusions").ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
        Assert.Equal(("stopped", "Denylisted"), (exclusion.Str("profileId"), exclusion.Str("reason")));
    }

    [Fact]
    [Trait("Rule", "R11.2")]
    [Trait("Rule", "R9.5")]
    public async Task Every_opt_out_keyword_in_any_case_denylists_and_any_other_text_changes_nothing()
    {
        foreach (var keyword in new[] { "STOP", "stopall", "Unsubscribe", "CANCEL", "end", " Quit " })
        {
            var number = Unique.Phone();
            var answer = await InboundAsync(new { from = number, text = keyword });
            Assert.True(answer.Str("action") == "Denylisted", $"'{keyword}' should denylist: {answer}");
            Assert.Equal("OnDenylist", (await Admin.AddressAsync(number)).Str("status"));
        }

        foreach (var text in new[] { "Hello", "please stop", "STOP!", "", "START" })
        {
            var number = Unique.Phone();
            var answer = await InboundAsync(new { from = number, text });
            Assert.True(answer.Str("action") == "None", $"'{text}' should change nothing: {answer}");
            var record = await Admin.AddressAsync(number);
            Assert.Equal(("Valid", 0), (record.Str("status"), record.GetProperty("errorCount").GetInt32()));
        }
    }

    [Fact]
    [Trait("Rule", "R11.2")]
    public async Task Bad_inbound_input_is_400_listing_every_bad_field_and_changes_nothing()
    {
        var both = await InboundAsync(new { }, HttpStatusCode.BadRequest);
        Assert.True(both.GetProperty("errors").TryGetProperty("from", out _), both.ToString());
        Assert.True(both.GetProperty("errors").TryGetProperty("text", out _), both.ToString());

        var national = await InboundAsync(new { from = "0612345678", text = "STOP" }, HttpStatusCode.BadRequest);
        var errors = national.GetProperty("errors");
        Assert.Contains("E.164", errors.GetProperty("from")[0].GetString());
        Assert.False(errors.TryGetProperty("text", out _));
        Assert.Equal("Valid", (await Admin.AddressAsync("0612345678")).Str("status"));

        var number = Unique.Phone();
        var noText = await InboundAsync(new { from = number }, HttpStatusCode.BadRequest);
        Assert.Equal(["text"], noText.GetProperty("errors").EnumerateObject().Select(p => p.Name));

        var badBoth = await InboundAsync(new { from = "+12ab", text = (string?)null }, HttpStatusCode.BadRequest);
        Assert.Equal(["from", "text"], badBoth.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());

        using var empty = new StringContent("", System.Text.Encoding.UTF8, "application/json");
        var emptyBody = await Mta.PostAsync("/api/sms/inbound", empty).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(emptyBody.GetProperty("errors").TryGetProperty("from", out _), emptyBody.ToString());
        using var broken = new StringContent("{ \"from\": ", System.Text.Encoding.UTF8, "application/json");
        await Mta.PostAsync("/api/sms/inbound", broken).ExpectAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    [Trait("Rule", "R1")]
    [Trait("Rule", "R11.2")]
    public async Task Inbound_sms_needs_the_MtaFeedback_role()
    {
        var number = Unique.Phone();

        var problem = await host.Client(ApiHostFixture.MarketerKey).PostJsonAsync("/api/sms/inbound", new { from = number, text = "STOP" })
            .ExpectAsync(HttpStatusCode.Forbidden);
        await host.Client(null).PostJsonAsync("/api/sms/inbound", new { from = number, text = "STOP" }).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Equal("MtaFeedback", problem.Str("missingRole"));
        Assert.Contains("MtaFeedback", problem.Str("detail"));
        Assert.Equal("Valid", (await Admin.AddressAsync(number)).Str("status"));
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R11.2")]
    public async Task An_administrator_releases_a_stopped_number_and_it_is_sent_to_again()
    {
        var number = Unique.Phone();
        await InboundAsync(new { from = number, text = "STOP" });

        var released = await Admin.PostEmptyAsync($"/api/addresses/{Uri.EscapeDataString(number)}/release").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal((number, "Valid"), (released.Str("address"), released.Str("status")));
        var id = await Admin.CreateAsync(SmsBody(Bodies.Target(("back", number))));
        var prepared = await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, prepared.GetProperty("toDeliver").GetInt64());
    }
}
