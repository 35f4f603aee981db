using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

/// <summary>R14: content templates refused at create and change, previews and proofs over HTTP.</summary>
[Collection(ApiCollection.Name)]
public sealed class ContentApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Marketer => host.Client(ApiHostFixture.MarketerKey);

    private static JsonObject Content(string subject, string? html = null, string? text = null, string? fromName = null) => new()
    {
        ["subject"] = subject,
        ["html"] = html,
        ["text"] = text,
        ["fromName"] = fromName,
    };

    /// <summary>A delivery on the simulated MTA (it takes proofs and sends them nowhere) with first names in its target.</summary>
    private static JsonObject Simulated(JsonObject content, string channel = "Email", string prefix = "p") => Bodies.Delivery(recipients: 2, prefix: prefix, tweak: b =>
    {
        b["channel"] = channel;
        b["mta"] = new JsonObject { ["kind"] = "Simulated", ["hardBounceRate"] = 0, ["softBounceRate"] = 0, ["openRate"] = 0, ["clickRate"] = 0 };
        b["content"] = content;
        var recipients = b["recipients"]!.AsArray();
        recipients[0]!["fields"] = new JsonObject { ["firstName"] = "Ann <3" };
        if (channel == "Sms")
        {
            recipients[0]!["address"] = Unique.Phone();
            recipients[1]!["address"] = Unique.Phone();
        }
    });

    [Fact, Trait("Rule", "R14.1")]
    public async Task A_template_that_does_not_parse_is_refused_at_creation_naming_field_line_and_column()
    {
        var body = Simulated(Content("Hi {{ firstName }", "<p>Hello</p>\n<p>\n{% if vip %}VIP"));

        var problem = await Marketer.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        Assert.StartsWith("line 1, column ", errors.GetProperty("content.subject")[0].GetString());
        Assert.StartsWith("line 3, column ", errors.GetProperty("content.html")[0].GetString());
        Assert.Contains("endif", errors.GetProperty("content.html")[0].GetString());
    }

    [Fact, Trait("Rule", "R14.1"), Trait("Rule", "R2.4")]
    public async Task Content_is_changed_until_the_send_is_confirmed_and_a_broken_change_is_refused()
    {
        var id = await Marketer.CreateAsync(Simulated(Content("First")));

        var broken = await Marketer.PatchAsync($"/api/deliveries/{id}", JsonContent(new { content = new { subject = "ok", text = "a\n{% for %}" } }))
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("line 2, column ", broken.GetProperty("errors").GetProperty("content.text")[0].GetString());
        Assert.Equal("First", (await Marketer.ViewAsync(id)).GetProperty("mta").GetProperty("content").GetProperty("subject").GetString());

        var changed = await Marketer.PatchAsync($"/api/deliveries/{id}", JsonContent(new { content = new { subject = "Second {{ firstName }}", fromName = "The shop" } }))
            .ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("The shop", changed.GetProperty("mta").GetProperty("content").GetProperty("fromName").GetString());
        var preview = await Marketer.PostEmptyAsync($"/api/deliveries/{id}/preview").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Second Ann <3", preview.Str("subject"));

        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);
        await Marketer.PatchAsync($"/api/deliveries/{id}", JsonContent(new { content = new { subject = "Too late" } })).ExpectAsync(HttpStatusCode.Conflict);
    }

    [Fact, Trait("Rule", "R14.4"), Trait("Rule", "R14.2")]
    public async Task A_preview_renders_the_first_recipient_or_the_one_asked_for()
    {
        var id = await Marketer.CreateAsync(Simulated(Content(
            "Hi {{ firstName | default: 'there' }}",
            "<p>Dear {{ firstName|friend }}, <a href=\"https://shop.test/?p={{ profileId }}\">shop</a></p>")));

        var first = await Marketer.PostEmptyAsync($"/api/deliveries/{id}/preview").ExpectAsync(HttpStatusCode.OK);
        var second = await Marketer.PostJsonAsync($"/api/deliveries/{id}/preview", new { profileId = "p-1" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("Hi Ann <3", first.Str("subject"));
        Assert.Equal("<p>Dear Ann &lt;3, <a href=\"https://shop.test/?p=p-0\">shop</a></p>", first.Str("html"));
        Assert.Equal("Dear Ann <3, shop (https://shop.test/?p=p-0)\n", first.Str("text"));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("smsLength").ValueKind);
        Assert.Equal("Hi there", second.Str("subject"));
        Assert.Contains("Dear friend", second.Str("html"));
    }

    [Fact, Trait("Rule", "R14.5")]
    public async Task An_sms_preview_gives_its_length_in_characters_and_segments()
    {
        var id = await Marketer.CreateAsync(Simulated(Content("s", text: "Hello {{ firstName }}! " + new string('x', 150) + " €"), channel: "Sms"));

        var preview = await Marketer.PostEmptyAsync($"/api/deliveries/{id}/preview").ExpectAsync(HttpStatusCode.OK);

        var length = preview.GetProperty("smsLength");
        Assert.Equal((167, 2, "GSM-7"), (length.GetProperty("characters").GetInt32(), length.GetProperty("segments").GetInt32(), length.Str("encoding")));
    }

    [Fact, Trait("Rule", "R14.4")]
    public async Task A_preview_of_a_profile_outside_the_target_is_refused()
    {
        var id = await Marketer.CreateAsync(Simulated(Content("s")));

        var problem = await Marketer.PostJsonAsync($"/api/deliveries/{id}/preview", new { profileId = "stranger" }).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("'stranger' is not a recipient", problem.GetProperty("errors").GetProperty("profileId")[0].GetString());
    }

    [Fact, Trait("Rule", "R14.4")]
    public async Task A_proof_is_accepted_counted_and_listed_and_moves_no_kpi_or_log()
    {
        var id = await Marketer.CreateAsync(Simulated(Content("Hi {{ firstName }}")));
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        var before = await Marketer.ViewAsync(id);

        var sent = await Marketer.PostJsonAsync($"/api/deliveries/{id}/proofs", new { addresses = new[] { Unique.Email("proof"), Unique.Email("proof") } })
            .ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal(2, sent.GetProperty("sent").GetInt32());
        Assert.Equal(1, sent.GetProperty("number").GetInt32());
        var after = await Marketer.ViewAsync(id);
        Assert.Equal(before.GetProperty("kpis").GetRawText().Replace(before.GetProperty("kpis").GetProperty("computedAt").GetRawText(), ""),
            after.GetProperty("kpis").GetRawText().Replace(after.GetProperty("kpis").GetProperty("computedAt").GetRawText(), ""));
        var proof = Assert.Single(after.GetProperty("proofs").EnumerateArray());
        Assert.Equal(("marketer", 2), (proof.Str("sentBy"), proof.GetProperty("addresses").GetArrayLength()));
        var log = await Marketer.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("ToDeliver", log.Str("status"));
    }

    [Fact, Trait("Rule", "R14.4")]
    public async Task Bad_proof_requests_are_400s_saying_what_to_fix()
    {
        var id = await Marketer.CreateAsync(Simulated(Content("s")));

        var none = await Marketer.PostJsonAsync($"/api/deliveries/{id}/proofs", new { addresses = Array.Empty<string>() }).ExpectAsync(HttpStatusCode.BadRequest);
        var bad = await Marketer.PostJsonAsync($"/api/deliveries/{id}/proofs", new { addresses = new[] { "nope" } }).ExpectAsync(HttpStatusCode.BadRequest);
        var shape = await Marketer.PostJsonAsync($"/api/deliveries/{id}/proofs", new { addresses = "a@example.test" }).ExpectAsync(HttpStatusCode.BadRequest);
        await host.Client(ApiHostFixture.SupervisorKey).PostJsonAsync($"/api/deliveries/{id}/proofs", new { addresses = new[] { Unique.Email("x") } })
            .ExpectAsync(HttpStatusCode.Forbidden);

        Assert.Contains("Give 1 to", none.GetProperty("errors").GetProperty("addresses")[0].GetString());
        Assert.Contains("'nope' is not an email address", bad.GetProperty("errors").GetProperty("addresses")[0].GetString());
        Assert.True(shape.GetProperty("errors").TryGetProperty("addresses", out _));
        Assert.False((await Marketer.ViewAsync(id)).TryGetProperty("proofs", out var proofs) && proofs.ValueKind == JsonValueKind.Array);
    }

    private static StringContent JsonContent(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
