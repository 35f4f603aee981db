using System.Net;

namespace DeliveryGrains.Api.Tests;

/// <summary>An MTA posting ordinary traffic in large batches: every event answered, never a 500.</summary>
[Collection(ApiCollection.Name)]
public sealed class FeedbackBatchTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    [Fact]
    [Trait("Rule", "R6.2")]
    [Trait("Rule", "R7.4")]
    [Trait("Rule", "R8.4")]
    public async Task One_batch_of_10000_events_for_300_recipients_is_accepted_whole_while_their_logs_settle()
    {
        const int recipients = 300;
        const int events = 10_000;
        var id = await Admin.StartAsync(Bodies.Delivery(recipients, b => b["emailFeedbackService"] = true));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == recipients, TimeSpan.FromSeconds(30));

        // Delivered first, then opens and clicks for the same profiles: each log settles (and gives its
        // activation back) while more of its events are on the way.
        var batch = new List<object>(events);
        batch.AddRange(Enumerable.Range(0, recipients).Select(i => Bodies.Event(id, $"p-{i}", "Delivered")));
        for (var n = 0; batch.Count < events; n++)
        {
            batch.Add(Bodies.Event(id, $"p-{n % recipients}", n / recipients % 3 == 0 ? "Click" : "Open"));
        }

        using var client = host.Client(ApiHostFixture.MtaKey);
        client.Timeout = TimeSpan.FromMinutes(2);
        var result = await client.PostJsonAsync("/api/mta/feedback", batch).ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal(events, result.GetProperty("accepted").GetInt32());
        Assert.Equal(0, result.GetProperty("duplicates").GetInt32());
        Assert.Empty(result.GetProperty("rejected").EnumerateArray());
        var stats = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(recipients, stats.GetProperty("delivered").GetInt64());
        Assert.Equal(recipients, stats.GetProperty("opens").GetInt64());
        Assert.Equal(recipients, stats.GetProperty("clicks").GetInt64());
    }
}
