using System.Net.ServerSentEvents;
using System.Text.Json;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.OperatorConsole.Live;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace DeliveryGrains.Api.Tests;

/// <summary>The live feed's fan-out and lifetime, against a fake delivery: no silo, no sleeps.</summary>
public sealed class LiveFeedTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeSource _source = new();
    private readonly StoppingLifetime _lifetime = new();
    private readonly DeliveryFeed _feed;

    public LiveFeedTests()
    {
        var json = new JsonOptions();
        json.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        _feed = new DeliveryFeed(_source,
            Options.Create(new LiveFeedOptions { PollPeriod = TimeSpan.FromMilliseconds(10), TimelinePeriod = TimeSpan.Zero, SubscriberBuffer = 16 }),
            Options.Create(json), TimeProvider.System, _lifetime, NullLogger<DeliveryFeed>.Instance);
    }

    public void Dispose()
    {
        _feed.Dispose();
        _lifetime.Dispose();
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task Twenty_subscribers_share_one_watcher_and_all_see_every_change()
    {
        _source.Set("d-1", sent: 0);
        var subscribers = Enumerable.Range(0, 20).Select(_ => new Listener(_feed, "d-1")).ToList();
        try
        {
            foreach (var s in subscribers)
            {
                await s.UntilViewAsync(v => v.Kpis.Sent == 0);
            }

            _source.Set("d-1", sent: 7);
            foreach (var s in subscribers)
            {
                await s.UntilViewAsync(v => v.Kpis.Sent == 7);
            }

            Assert.Equal(1, _feed.WatchedDeliveries);
            Assert.Equal(1, _source.MostReadsAtOnce);
        }
        finally
        {
            foreach (var s in subscribers)
            {
                await s.DisposeAsync();
            }
        }
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task The_watcher_stops_when_the_last_subscriber_leaves_and_starts_again_for_the_next()
    {
        _source.Set("d-2", sent: 1);
        var first = new Listener(_feed, "d-2");
        var second = new Listener(_feed, "d-2");
        await first.UntilViewAsync(v => v.Kpis.Sent == 1);
        await second.UntilViewAsync(v => v.Kpis.Sent == 1);
        var loop = _feed.WatchLoop("d-2");
        Assert.NotNull(loop);

        await first.DisposeAsync();
        Assert.Equal(1, _feed.WatchedDeliveries);
        Assert.False(loop.IsCompleted);

        await second.DisposeAsync();
        await loop.WaitAsync(Bound);
        Assert.Equal(0, _feed.WatchedDeliveries);
        Assert.Null(_feed.WatchLoop("d-2"));

        // Nothing reads the delivery any more; a new page starts a new watcher from the current state.
        var readsAfterStop = _source.Reads("d-2");
        _source.Set("d-2", sent: 2);
        Assert.Equal(readsAfterStop, _source.Reads("d-2"));
        await using var third = new Listener(_feed, "d-2");
        await third.UntilViewAsync(v => v.Kpis.Sent == 2);
        Assert.Equal(1, _feed.WatchedDeliveries);
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task A_newcomer_starts_from_the_current_view_timeline_and_charts_then_gets_only_new_points()
    {
        _source.Set("d-3", sent: 10, status: DeliveryStatus.InProgress);
        _source.AddPoint("d-3", sent: 0);
        _source.AddPoint("d-3", sent: 10);
        await using var early = new Listener(_feed, "d-3");
        await early.UntilViewAsync(v => v.Kpis.Sent == 10);
        var whole = await early.UntilAsync(DeliveryFeed.TimelineEvent, _ => true);
        Assert.True(whole.GetProperty("reset").GetBoolean());
        Assert.Equal(2, whole.GetProperty("points").GetArrayLength());
        await early.UntilEventAsync(DeliveryFeed.ChartsEvent);

        await using var late = new Listener(_feed, "d-3");
        var first = await late.NextAsync();
        Assert.Equal(DeliveryFeed.ViewEvent, first.EventType);
        var joined = await late.UntilAsync(DeliveryFeed.TimelineEvent, _ => true);
        Assert.Equal(2, joined.GetProperty("points").GetArrayLength());
        var charts = await late.NextAsync();
        Assert.Equal(DeliveryFeed.ChartsEvent, charts.EventType);
        Assert.Contains("data-points=\"2\"", charts.Data, StringComparison.Ordinal);

        // The counts move past the last point: the watcher fetches the new point and pushes it alone.
        _source.Set("d-3", sent: 25, status: DeliveryStatus.InProgress);
        _source.AddPoint("d-3", sent: 25);
        foreach (var listener in new[] { early, late })
        {
            var added = await listener.UntilAsync(DeliveryFeed.TimelineEvent, t => !t.GetProperty("reset").GetBoolean());
            Assert.Equal(25, Assert.Single(added.GetProperty("points").EnumerateArray()).GetProperty("sent").GetInt64());
            var redrawn = await listener.NextAsync();
            Assert.Equal(DeliveryFeed.ChartsEvent, redrawn.EventType);
            Assert.Contains("data-points=\"3\"", redrawn.Data, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task An_unchanged_delivery_pushes_nothing_new()
    {
        _source.Set("d-4", sent: 3);
        await using var listener = new Listener(_feed, "d-4");
        await listener.UntilViewAsync(v => v.Kpis.Sent == 3);
        await listener.UntilEventAsync(DeliveryFeed.ChartsEvent);
        await listener.UntilEventAsync(DeliveryFeed.PaceEvent);
        var reads = _source.Reads("d-4");
        await _source.UntilReadsAsync("d-4", reads + 5);

        _source.Set("d-4", sent: 4);
        var next = await listener.NextAsync();
        Assert.Equal(DeliveryFeed.ViewEvent, next.EventType);
        Assert.Equal(4, View(next).Kpis.Sent);
    }

    [Fact]
    [Trait("Rule", "R12.3")]
    public async Task A_running_delivery_gets_its_domains_and_deferrals_in_the_pace_event()
    {
        _source.Set("d-7", sent: 5, status: DeliveryStatus.InProgress);
        await using var listener = new Listener(_feed, "d-7");

        var pace = await listener.UntilAsync(DeliveryFeed.PaceEvent, p => p.GetProperty("domains").GetArrayLength() > 0);

        var domain = Assert.Single(pace.GetProperty("domains").EnumerateArray());
        Assert.Equal(("example.test", 4L), (domain.GetProperty("domain").GetString(), domain.GetProperty("deferrals").GetInt64()));
        Assert.Equal(4, pace.GetProperty("deferred").GetInt64());
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task A_subscriber_that_stops_reading_is_let_go_without_holding_up_the_others()
    {
        _source.Set("d-5", sent: 0);
        var stalled = _feed.SubscribeAsync("d-5").GetAsyncEnumerator();
        await using var reading = new Listener(_feed, "d-5");
        Assert.True(await stalled.MoveNextAsync());

        // Every change is an event; the stalled subscriber's buffer of 16 overflows long before 40 changes.
        for (var sent = 1; sent <= 40; sent++)
        {
            _source.Set("d-5", sent: sent);
            await reading.UntilViewAsync(v => v.Kpis.Sent == sent);
        }

        var left = 0;
        while (await stalled.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            left++;
        }

        Assert.InRange(left, 1, 16);
        await stalled.DisposeAsync();
        Assert.Equal(1, _feed.WatchedDeliveries);
    }

    [Fact]
    [Trait("Rule", "R8.5")]
    public async Task Stopping_the_silo_ends_every_stream()
    {
        _source.Set("d-6", sent: 0);
        await using var listener = new Listener(_feed, "d-6");
        await listener.UntilViewAsync(v => v.Kpis.Sent == 0);
        var loop = _feed.WatchLoop("d-6")!;

        _lifetime.Stop();

        await listener.UntilEndAsync();
        await loop.WaitAsync(Bound);
        Assert.Equal(0, _feed.WatchedDeliveries);
    }

    private static DeliveryView View(SseItem<string> item) => JsonSerializer.Deserialize<DeliveryView>(item.Data, ApiClients.Json)!;

    /// <summary>One subscriber reading its events in order, each wait bounded.</summary>
    private sealed class Listener(DeliveryFeed feed, string deliveryId) : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<SseItem<string>> _events = feed.SubscribeAsync(deliveryId).GetAsyncEnumerator();

        public async Task<SseItem<string>> NextAsync()
        {
            Assert.True(await _events.MoveNextAsync().AsTask().WaitAsync(Bound), "The stream ended.");
            return _events.Current;
        }

        public async Task<JsonElement> UntilAsync(string eventType, Func<JsonElement, bool> condition)
        {
            while (true)
            {
                var data = JsonDocument.Parse((await UntilEventAsync(eventType)).Data).RootElement;
                if (condition(data))
                {
                    return data;
                }
            }
        }

        public async Task<SseItem<string>> UntilEventAsync(string eventType)
        {
            while (true)
            {
                var item = await NextAsync();
                if (item.EventType == eventType)
                {
                    return item;
                }
            }
        }

        public async Task UntilViewAsync(Func<DeliveryView, bool> condition)
        {
            while (!condition(View(await UntilEventAsync(DeliveryFeed.ViewEvent))))
            {
            }
        }

        public async Task UntilEndAsync()
        {
            while (await _events.MoveNextAsync().AsTask().WaitAsync(Bound))
            {
            }
        }

        public ValueTask DisposeAsync() => _events.DisposeAsync();
    }

    private sealed class FakeSource : IDeliveryFeedSource
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, DeliveryView> _views = [];
        private readonly Dictionary<string, List<TimelinePoint>> _points = [];
        private readonly Dictionary<string, int> _reads = [];
        private int _inFlight;
        private int _most;

        public int MostReadsAtOnce => Volatile.Read(ref _most);

        public void Set(string id, long sent, DeliveryStatus status = DeliveryStatus.Draft)
        {
            var kpis = Kpis.Of(100, sent, sent, 0, 0, 0, 0, 0, DateTimeOffset.UnixEpoch.AddSeconds(sent));
            var view = new DeliveryView(id, "Live", Channel.Email, status, false, TimeSpan.FromDays(1), null, null, [], kpis,
                TimeSpan.FromHours(1), 3, true, new MtaSettings(MtaKind.External), "admin", 100);
            lock (_lock)
            {
                _views[id] = view;
            }
        }

        public void AddPoint(string id, long sent)
        {
            lock (_lock)
            {
                var points = _points.TryGetValue(id, out var list) ? list : _points[id] = [];
                points.Add(new TimelinePoint(DateTimeOffset.UnixEpoch.AddSeconds(points.Count), sent, sent, 0, 0, 0, 0, 0));
            }
        }

        public int Reads(string id)
        {
            lock (_lock)
            {
                return _reads.GetValueOrDefault(id);
            }
        }

        public Task UntilReadsAsync(string id, int reads) =>
            Eventually.Until(() => Task.FromResult(Reads(id)), n => n >= reads, $"{reads} reads of {id}", Bound, TimeSpan.FromMilliseconds(5));

        public async Task<DeliveryView> GetViewAsync(string deliveryId)
        {
            var now = Interlocked.Increment(ref _inFlight);
            int most;
            while ((most = Volatile.Read(ref _most)) < now && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }

            try
            {
                await Task.Yield();
                lock (_lock)
                {
                    _reads[deliveryId] = _reads.GetValueOrDefault(deliveryId) + 1;
                    return _views[deliveryId];
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public Task<IReadOnlyList<DomainStats>> GetDomainsAsync(string deliveryId) =>
            Task.FromResult<IReadOnlyList<DomainStats>>([new DomainStats("example.test", 100, 0, 0, 0, 4, 60)]);

        public Task<IReadOnlyList<BounceCount>> GetBouncesAsync(string deliveryId) => Task.FromResult<IReadOnlyList<BounceCount>>([]);

        public Task<IReadOnlyList<DeliveryGrains.Tracking.LinkCount>> GetLinksAsync(string deliveryId) =>
            Task.FromResult<IReadOnlyList<DeliveryGrains.Tracking.LinkCount>>([]);

        public Task<IReadOnlyList<TimelinePoint>> GetPointsAsync(string deliveryId, DateTimeOffset? after)
        {
            lock (_lock)
            {
                IReadOnlyList<TimelinePoint> points = [.. (_points.GetValueOrDefault(deliveryId) ?? []).Where(p => after is not { } a || p.At > a)];
                return Task.FromResult(points);
            }
        }
    }

    private sealed class StoppingLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();

        public void Stop() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }
}
