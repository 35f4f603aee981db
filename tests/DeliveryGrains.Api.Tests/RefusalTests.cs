using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// Every refusal of the API speaks to the person who sent the request: each bad field at once, what
/// it must hold (valid values, bounds, formats), and never a .NET type name.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class RefusalTests(ApiHostFixture host)
{
    private static readonly string[] DotNetWords = ["DeliveryGrains.", "System.", "Nullable", "Int32", "Int64", "`1", "TimeSpan", "DateTimeOffset", "Dto", "CreateDeliveryRequest"];

    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    [Fact]
    [Trait("Rule", "R2")]
    public async Task A_body_with_many_shape_mistakes_lists_every_field_with_what_it_must_hold()
    {
        var body = Bodies.Delivery(tweak: b =>
        {
            b["name"] = "";
            b["channel"] = "Fax";
            b["validityPeriod"] = "soon";
            b["maxRetries"] = "many";
            b["sendAt"] = "tomorrow";
            b["emailFeedbackService"] = "yes";
            b["mta"] = new JsonObject { ["kind"] = 7, ["hardBounceRate"] = 1.5 };
            b["recurrence"] = new JsonObject { ["every"] = "1.00:00:00", ["count"] = 3, ["aggregationPeriod"] = "Fortnight" };
        });

        var problem = await PostAsync(body);

        var errors = Errors(problem);
        Assert.Contains("Email or Sms", errors["channel"]);
        Assert.Contains("\"Fax\"", errors["channel"]);
        Assert.Contains("3.12:00:00", errors["validityPeriod"]);
        Assert.Contains("whole number", errors["maxRetries"]);
        Assert.Contains("2026-12-01T09:00:00Z", errors["sendAt"]);
        Assert.Contains("true or false", errors["emailFeedbackService"]);
        Assert.Contains("External", errors["mta.kind"]);
        Assert.Contains("0 to 1", errors["mta.hardBounceRate"]);
        Assert.Contains("Day, Week or Month", errors["recurrence.aggregationPeriod"]);
        Assert.Contains("name", errors.Keys);
        AssertNoDotNet(problem);
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task A_count_too_large_for_any_whole_number_is_refused_with_its_limit()
    {
        var body = Bodies.Delivery(tweak: b =>
        {
            b.Remove("recipients");
            b["generatedTarget"] = JsonNode.Parse("""{ "count": 1000000000000, "seed": 99999999999, "domain": "example.test" }""");
        });

        var problem = await PostAsync(body);

        var errors = Errors(problem);
        Assert.Equal("1000000000000 is out of range: Generate 1 to 10,000,000 recipients.", errors["generatedTarget.count"]);
        Assert.Contains("2,147,483,647", errors["generatedTarget.seed"]);
        AssertNoDotNet(problem);
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task An_instant_without_a_time_zone_is_refused_with_an_example()
    {
        var problem = await PostAsync(Bodies.Delivery(tweak: b => b["sendAt"] = "2027-03-01T09:00:00"));

        Assert.Contains("no time zone", Errors(problem)["sendAt"]);
        Assert.Contains("2027-03-01T09:00:00Z", Errors(problem)["sendAt"]);
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task An_instant_with_its_zone_is_taken_as_given()
    {
        var created = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b => b["sendAt"] = "2027-03-01T09:00:00+01:00"))
            .ExpectAsync(HttpStatusCode.Created);

        Assert.Equal(new DateTimeOffset(2027, 3, 1, 8, 0, 0, TimeSpan.Zero), created.GetProperty("sendAt").GetDateTimeOffset());
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Broken_json_names_the_line_and_character()
    {
        using var content = new StringContent("{\n  \"name\": \"x\",\n  \"channel\": }", Encoding.UTF8, "application/json");
        var problem = await Admin.PostAsync("/api/deliveries", content).ExpectAsync(HttpStatusCode.BadRequest);

        var body = Errors(problem)["body"];
        Assert.Contains("not valid JSON", body);
        Assert.Contains("line 3", body);
        AssertNoDotNet(problem);
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task A_body_that_is_not_json_says_how_to_send_it()
    {
        using var content = new StringContent("name=x", Encoding.UTF8, "text/plain");
        var problem = await Admin.PostAsync("/api/deliveries", content).ExpectAsync(HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("Content-Type: application/json", problem.Str("detail"));
    }

    [Fact]
    [Trait("Rule", "R2.4")]
    public async Task A_patch_with_bad_fields_lists_them_all_and_changes_nothing()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/deliveries/{id}")
        {
            Content = new StringContent("""{ "name": 5, "sendAt": "next week", "recipients": [ { "profileId": 12 } ] }""", Encoding.UTF8, "application/json"),
        };

        var problem = await Admin.SendAsync(patch).ExpectAsync(HttpStatusCode.BadRequest);

        var errors = Errors(problem);
        Assert.Contains("text", errors["name"]);
        Assert.Contains("instant", errors["sendAt"]);
        Assert.Contains("text", errors["recipients[0].profileId"]);
        Assert.Equal("Black Friday", (await Admin.ViewAsync(id)).Str("name"));
        AssertNoDotNet(problem);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task A_query_value_of_the_wrong_kind_says_what_to_fix()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());

        var problem = await Admin.GetAsync($"/api/deliveries/{id}/logs?limit=abc&status=Bounced").ExpectAsync(HttpStatusCode.BadRequest);

        var errors = Errors(problem);
        Assert.Equal("'abc' is not a whole number; ask for 1 to 1000 logs per page, e.g. limit=100.", errors["limit"]);
        Assert.Contains("ToDeliver, Pending, Sent or Failed", errors["status"]);
        AssertNoDotNet(problem);

        var tooMany = await Admin.GetAsync($"/api/deliveries/{id}/logs?limit=5000").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal("5000 is out of range: ask for 1 to 1000 logs per page.", Errors(tooMany)["limit"]);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Feedback_a_field_of_the_wrong_kind_names_the_event_and_the_field()
    {
        var mta = host.Client(ApiHostFixture.MtaKey);
        using var content = new StringContent("""[ { "eventId": "e", "deliveryId": "d", "profileId": "p", "type": "Open", "at": "yesterday" } ]""", Encoding.UTF8, "application/json");

        var problem = await mta.PostAsync("/api/mta/feedback", content).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("2026-12-01T09:00:00Z", Errors(problem)["[0].at"]);
        AssertNoDotNet(problem);
    }

    private async Task<JsonElement> PostAsync(JsonObject body) =>
        await Admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.BadRequest);

    private static ProblemErrors Errors(JsonElement problem) => new(problem);

    /// <summary>The messages of each field, joined; a missing field fails with the whole problem shown.</summary>
    private sealed class ProblemErrors(JsonElement problem)
    {
        public IEnumerable<string> Keys => problem.GetProperty("errors").EnumerateObject().Select(e => e.Name);

        public string this[string field] => problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out var messages)
            ? string.Join(" ", messages.EnumerateArray().Select(m => m.GetString()))
            : throw new Xunit.Sdk.XunitException($"No error for '{field}' in {problem}");
    }

    private static void AssertNoDotNet(JsonElement problem)
    {
        var text = problem.ToString();
        foreach (var word in DotNetWords)
        {
            Assert.False(text.Contains(word, StringComparison.Ordinal), $"'{word}' reached the caller: {text}");
        }
    }
}
