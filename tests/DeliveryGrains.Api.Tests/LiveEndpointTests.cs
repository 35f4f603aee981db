using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using DeliveryGrains.Silo.OperatorConsole.Live;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryGrains.Api.Tests;

/// <summary><c>GET /api/deliveries/{id}/live</c> on the real silo: Server-Sent Events of the Deployment block.</summary>
[Collection(ApiCollection.Name)]
public sealed class LiveEndpointTests(ApiHostFixture host)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task The_stream_starts_with_the_view_and_pushes_each_change_of_status_and_counts()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery(recipients: 4, tweak: b => b["name"] = "Live stream"));
        await using var stream = await LiveStream.OpenAsync(host.Client(ApiHostFixture.MtaKey), id);

        var first = await stream.UntilAsync(DeliveryFeed.ViewEvent, _ => true);
        Assert.Equal(id, first.Str("id"));
        Assert.Equal("Draft", first.Status());

        await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        var ready = await stream.UntilAsync(DeliveryFeed.ViewEvent, v => v.Status() == "Ready");
        Assert.Equal(4, ready.Kpi("toDeliver"));

        await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);
        var sent = await stream.UntilAsync(DeliveryFeed.ViewEvent, v => v.Kpi("sent") == 4);
        Assert.Equal(4, sent.Kpi("delivered"));
        var timeline = await stream.UntilAsync(DeliveryFeed.TimelineEvent, t => t.GetProperty("points").EnumerateArray().Any(p => p.GetProperty("sent").GetInt64() == 4));
        Assert.Contains(timeline.GetProperty("points").EnumerateArray(), p => p.GetProperty("delivered").GetInt64() == 4);
        var charts = await stream.UntilRawAsync(DeliveryFeed.ChartsEvent);
        Assert.Contains("data-series=\"sent\" data-last=\"4\"", charts, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task The_stream_needs_a_user_and_an_existing_delivery()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());
        using var anonymous = await host.Client(null).GetAsync($"/api/deliveries/{id}/live", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var unknown = await Admin.GetAsync($"/api/deliveries/{Guid.NewGuid():N}/live", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task Closing_every_stream_of_a_delivery_stops_its_watcher()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());
        var feed = host.Services.GetRequiredService<DeliveryFeed>();
        var streams = new List<LiveStream>();
        for (var i = 0; i < 3; i++)
        {
            var stream = await LiveStream.OpenAsync(Admin, id);
            streams.Add(stream);
            await stream.UntilAsync(DeliveryFeed.ViewEvent, _ => true);
        }

        var loop = feed.WatchLoop(id);
        Assert.NotNull(loop);
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        // The server sees each disconnect as its request aborting; the shared loop ends with the last.
        await loop.WaitAsync(Bound);
        Assert.Null(feed.WatchLoop(id));
    }

    /// <summary>A client of the event stream; each wait is bounded.</summary>
    private sealed class LiveStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly IAsyncEnumerator<SseItem<string>> _events;
        private readonly CancellationTokenSource _bound = new(Bound);

        private LiveStream(HttpResponseMessage response, Stream body)
        {
            _response = response;
            _events = SseParser.Create(body).EnumerateAsync(_bound.Token).GetAsyncEnumerator(_bound.Token);
        }

        public static async Task<LiveStream> OpenAsync(HttpClient client, string id)
        {
            var response = await client.GetAsync($"/api/deliveries/{id}/live", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new LiveStream(response, await response.Content.ReadAsStreamAsync());
        }

        public async Task<JsonElement> UntilAsync(string eventType, Func<JsonElement, bool> condition)
        {
            while (true)
            {
                var data = await UntilRawAsync(eventType);
                var element = JsonDocument.Parse(data).RootElement;
                if (condition(element))
                {
                    return element;
                }
            }
        }

        public async Task<string> UntilRawAsync(string eventType)
        {
            while (true)
            {
                Assert.True(await _events.MoveNextAsync(), "The stream ended before the expected event.");
                if (_events.Current.EventType == eventType)
                {
                    return _events.Current.Data;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _bound.CancelAsync();
            await _events.DisposeAsync();
            _response.Dispose();
            _bound.Dispose();
        }
    }
}
