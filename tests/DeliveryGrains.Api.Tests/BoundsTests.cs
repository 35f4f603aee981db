using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeliveryGrains.Api.Tests;

/// <summary>Values at and past the edges: each answered as a 400 naming the field and its bounds, or made to work; never a 500.</summary>
[Collection(ApiCollection.Name)]
public sealed class BoundsTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private static JsonElement Errors(JsonElement problem) => problem.GetProperty("errors");

    private static string Error(JsonElement problem, string field) =>
        string.Join(" ", Errors(problem).GetProperty(field).EnumerateArray().Select(e => e.GetString()));

    [Theory]
    [Trait("Rule", "R3.1")]
    [InlineData(60)]
    [InlineData(3 * 365)]
    public async Task A_contact_date_beyond_fifty_days_is_Scheduled_by_a_reminder(int days)
    {
        var sendAt = DateTimeOffset.UtcNow.AddDays(days);
        var id = await Admin.CreateAsync(Bodies.Delivery(tweak: b => b["sendAt"] = sendAt));
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var confirmed = await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal("Scheduled", confirmed.Status());
        Assert.Equal("Scheduled", (await Admin.ViewAsync(id)).Status());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/stop").ExpectAsync(HttpStatusCode.Accepted);
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task A_recurring_delivery_whose_first_run_is_a_year_ahead_starts_its_schedule()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery(tweak: b =>
        {
            b["sendAt"] = DateTimeOffset.UtcNow.AddDays(365);
            b["recurrence"] = new JsonObject { ["every"] = "200.00:00:00", ["count"] = 3 };
        }));
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var confirmed = await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal("InProgress", confirmed.Status());
        Assert.Empty((await Admin.GetAsync($"/api/deliveries/{id}/executions").ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/stop").ExpectAsync(HttpStatusCode.Accepted);
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task A_contact_date_more_than_ten_years_ahead_is_refused_by_name()
    {
        var problem = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b => b["sendAt"] = DateTimeOffset.UtcNow.AddYears(20)))
            .ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("10 years", Error(problem, "sendAt"));
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("/api/deliveries/%20", "id")]
    [InlineData("/api/deliveries/%20/logs", "id")]
    [InlineData("/api/profiles/%20/history", "profileId")]
    [InlineData("/api/addresses/%20", "address")]
    public async Task A_blank_id_in_the_path_is_a_400_naming_it(string path, string field)
    {
        var problem = await Admin.GetAsync(path).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("blank", Error(problem, field));
    }

    [Fact]
    [Trait("Rule", "R7.1")]
    public async Task A_retry_period_longer_than_the_longest_validity_is_refused_with_its_bounds()
    {
        var problem = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b => b["retryPeriod"] = "10675199.02:48:05"))
            .ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("3.12:00:00", Error(problem, "retryPeriod"));
    }

    [Theory]
    [Trait("Rule", "R3.4")]
    [Trait("Rule", "R11.1")]
    [InlineData("channel", "Email")]
    [InlineData("mta.kind", "External")]
    [InlineData("recurrence.aggregationPeriod", "Week")]
    public async Task An_undefined_enum_number_is_refused_with_the_names_it_may_take(string field, string aName)
    {
        var body = Bodies.Delivery(tweak: b =>
        {
            switch (field)
            {
                case "channel":
                    b["channel"] = 99;
                    break;
                case "mta.kind":
                    b["mta"] = new JsonObject { ["kind"] = 99 };
                    break;
                default:
                    b["recurrence"] = new JsonObject { ["every"] = "1.00:00:00", ["count"] = 2, ["aggregationPeriod"] = 42 };
                    break;
            }
        });

        var problem = await Admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains(aName, Error(problem, field));
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    public async Task A_feedback_event_dated_far_ahead_is_rejected_and_cannot_stop_later_errors_from_counting()
    {
        var address = $"later.{Guid.NewGuid():N}@example.test";
        var id = await Admin.StartAsync(Bodies.Delivery(tweak: b =>
            b["recipients"] = Bodies.Target(("p-0", address))));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 1);
        var future = new
        {
            eventId = Guid.NewGuid().ToString("N"),
            deliveryId = id,
            profileId = "p-0",
            type = "SoftBounce",
            reason = "MailboxFull",
            at = new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero),
        };

        var refused = await Mta.PostJsonAsync("/api/mta/feedback", new object[] { future }).ExpectAsync(HttpStatusCode.Accepted);
        var now = await Mta.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(id, "p-0", "SoftBounce", "MailboxFull") })
            .ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal(0, refused.GetProperty("accepted").GetInt32());
        var rejection = Assert.Single(refused.GetProperty("rejected").EnumerateArray());
        Assert.Contains("outside the accepted window", rejection.GetProperty("error").GetString());
        Assert.Equal(1, now.GetProperty("accepted").GetInt32());
        var record = await Admin.AddressUntilAsync(address, r => r.GetProperty("errorCount").GetInt32() == 1);
        Assert.True(record.GetProperty("lastErrorAt").GetDateTimeOffset() < DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    [Trait("Rule", "R8.4")]
    public async Task An_open_then_a_hard_bounce_never_makes_an_open_rate_above_100_percent()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 2));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 2);

        await Mta.PostJsonAsync("/api/mta/feedback", new[]
        {
            Bodies.Event(id, "p-0", "Open"),
            Bodies.Event(id, "p-0", "HardBounce", "UserUnknown"),
            Bodies.Event(id, "p-1", "Click"),
        }).ExpectAsync(HttpStatusCode.Accepted);

        var stats = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((1L, 1L, 1L), (stats.GetProperty("delivered").GetInt64(), stats.GetProperty("opens").GetInt64(), stats.GetProperty("clicks").GetInt64()));
        Assert.Equal(100.0, stats.GetProperty("openRate").GetDouble());
        Assert.Equal(100.0, stats.GetProperty("clickThroughRate").GetDouble());
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task A_body_over_the_configured_limit_is_a_413_naming_the_limit()
    {
        var huge = new string('x', (int)ApiHostFixture.MaxRequestBodyBytes + 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/deliveries")
        {
            Content = new StringContent($"{{\"name\":\"{huge}\"}}", System.Text.Encoding.UTF8, "application/json"),
        };

        // The client waits for the silo's go-ahead before sending the body, so the refusal is read
        // whole rather than raced by a connection the silo closes on a body it will not take.
        request.Headers.ExpectContinue = true;

        using var patient = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = host.BaseAddress,
            DefaultRequestHeaders = { { "X-Api-Key", ApiHostFixture.AdminKey } },
        };
        var problem = await patient.SendAsync(request).ExpectAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("Api:MaxRequestBodyBytes", problem.GetProperty("detail").GetString());
    }
}
