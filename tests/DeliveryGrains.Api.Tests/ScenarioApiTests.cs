using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

/// <summary>R12.5 through the API: <c>mta.scenario</c> inline, every bad field a 400 naming it and its bounds.</summary>
[Collection(ApiCollection.Name)]
public sealed class ScenarioApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private static JsonObject Body(JsonNode scenario, int count = 100) => Bodies.Delivery(tweak: b =>
    {
        b.Remove("recipients");
        b["generatedTarget"] = new JsonObject { ["count"] = count, ["seed"] = Random.Shared.Next(1, int.MaxValue) };
        b["mta"] = new JsonObject { ["kind"] = "Simulated", ["scenario"] = scenario };
    });

    private static string Error(JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var messages)
            ? string.Join(" ", messages.EnumerateArray().Select(e => e.GetString()))
            : throw new Xunit.Sdk.XunitException($"No error for '{field}' in {problem}");

    [Fact]
    [Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public async Task A_shipped_scenario_inline_spreads_the_generated_target_over_its_domains()
    {
        var scenario = JsonNode.Parse(await File.ReadAllTextAsync(Shipped("consumer-mix.json")))!;
        var id = await Admin.CreateAsync(Body(scenario, count: 1000));
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var domains = (await Admin.GetAsync($"/api/deliveries/{id}/domains").ExpectAsync(HttpStatusCode.OK)).EnumerateArray()
            .ToDictionary(d => d.GetProperty("domain").GetString()!, d => d.GetProperty("toDeliver").GetInt64());

        // consumer-mix.json: 40 % gmail.test, 25 % outlook.test, 15 % yahoo.test, 10 % icloud.test, 10 % web.test.
        Assert.Equal(1000, domains.Values.Sum());
        Assert.InRange(domains["gmail.test"], 397, 403);
        Assert.InRange(domains["outlook.test"], 247, 253);
        Assert.InRange(domains["yahoo.test"], 147, 153);
        Assert.InRange(domains["icloud.test"], 97, 103);
        Assert.InRange(domains["web.test"], 97, 103);
    }

    [Fact]
    [Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public async Task Every_bad_scenario_field_is_a_400_naming_the_field_and_its_bounds()
    {
        var scenario = new JsonObject
        {
            ["domains"] = new JsonArray
            {
                new JsonObject
                {
                    ["domain"] = "no_such domain",
                    ["share"] = 0,
                    ["acceptPerMinute"] = 20_000_000,
                    ["hardBounceRate"] = 1.5,
                    ["latency"] = new JsonObject { ["min"] = "00:10:00", ["max"] = "00:01:00" },
                    ["opens"] = new JsonObject { ["rate"] = 0.2, ["hourly"] = new JsonArray() },
                },
                new JsonObject { ["domain"] = "b.test", ["share"] = "half", ["greylist"] = new JsonObject { ["retryAfter"] = "soon" } },
            },
        };

        var problem = await Admin.PostJsonAsync("/api/deliveries", Body(scenario)).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("not a domain name", Error(problem, "mta.scenario.domains[0].domain"));
        Assert.Contains("above 0 and at most 1", Error(problem, "mta.scenario.domains[0].share"));
        Assert.Contains("1 to 10,000,000", Error(problem, "mta.scenario.domains[0].acceptPerMinute"));
        Assert.Contains("from 0 to 1", Error(problem, "mta.scenario.domains[0].hardBounceRate"));
        Assert.Contains("min ≤ median ≤ max", Error(problem, "mta.scenario.domains[0].latency"));
        Assert.Contains("1 to 168", Error(problem, "mta.scenario.domains[0].opens.hourly"));
        Assert.Contains("number", Error(problem, "mta.scenario.domains[1].share"));
        Assert.Contains("duration", Error(problem, "mta.scenario.domains[1].greylist.retryAfter"));
    }

    [Fact]
    [Trait("Rule", "R12"), Trait("Rule", "R12.5")]
    public async Task A_scenario_needs_the_simulated_MTA_and_domains_whose_shares_add_up_to_one()
    {
        var body = Body(new JsonObject { ["domains"] = new JsonArray { new JsonObject { ["domain"] = "a.test", ["share"] = 0.4 } } });
        body["mta"]!["kind"] = "External";

        var problem = await Admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("mta.kind Simulated", Error(problem, "mta.scenario"));
        Assert.Contains("add up to 0.4", Error(problem, "mta.scenario.domains"));
        var empty = await Admin.PostJsonAsync("/api/deliveries", Body(new JsonObject())).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("1 to 1,000 entries", Error(empty, "mta.scenario.domains"));
    }

    private static string Shipped(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DeliveryGrains.sln")))
            {
                return Path.Combine(dir.FullName, "scenarios", name);
            }
        }

        throw new InvalidOperationException("The repository root (DeliveryGrains.sln) is not above the test's folder.");
    }
}
