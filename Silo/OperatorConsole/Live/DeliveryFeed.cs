using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.OperatorConsole.Charts;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace DeliveryGrains.Silo.OperatorConsole.Live;

/// <summary>
/// The live Deployment block of every watched delivery. A delivery is watched while at least one
/// subscriber (an open delivery page, an SSE client) listens: one loop per delivery per silo reads
/// the delivery's view every <see cref="LiveFeedOptions.PollPeriod"/>, fetches the timeline points it
/// has not seen when the counts moved past its last point, and hands the same serialized events to
/// every subscriber. Twenty open pages of one delivery cost one loop; the loop ends with the last
/// subscriber. Events: <c>view</c> (the delivery view, as <c>GET /api/deliveries/{id}</c> answers),
/// <c>timeline</c> (<c>{ "points": [...], "reset": bool }</c>: new points, or with reset the whole
/// series so far), <c>charts</c> (the charts, rendered once for everyone) and <c>pace</c> (a
/// <see cref="DeploymentPace"/>: rate, time left, deferrals and the per-domain figures, the domains
/// read at most every <see cref="DomainsPeriod"/> while the figures move, and every
/// <see cref="DomainsRefresh"/> while the delivery runs, since deferrals move without them) and
/// <c>reports</c> (<c>{ "bounces": [...], "links": [...] }</c>: the Reports section's bounces by type and
/// reason and, for an email, its clicks per link; read once the send started, then again when the
/// bounces or clicks figure moved, at most every <see cref="ReportsPeriod"/>).
/// </summary>
public sealed partial class DeliveryFeed : IDisposable
{
    public const string ViewEvent = "view";
    public const string TimelineEvent = "timeline";
    public const string ChartsEvent = "charts";
    public const string PaceEvent = "pace";
    public const string ReportsEvent = "reports";

    /// <summary>The shortest time between two reads of the domains (each one asks every partition).</summary>
    public static readonly TimeSpan DomainsPeriod = TimeSpan.FromSeconds(2);

    /// <summary>How often the domains of a running delivery are read when its figures stand still.</summary>
    public static readonly TimeSpan DomainsRefresh = TimeSpan.FromSeconds(5);

    /// <summary>The shortest time between two reads of the reports (each one asks every partition twice).</summary>
    public static readonly TimeSpan ReportsPeriod = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Watcher> _watchers = new(StringComparer.Ordinal);
    private readonly IDeliveryFeedSource _source;
    private readonly LiveFeedOptions _options;
    private readonly JsonSerializerOptions _json;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliveryFeed> _logger;
    private readonly CancellationTokenRegistration _stopping;
    private bool _closed;

    public DeliveryFeed(
        IDeliveryFeedSource source, IOptions<LiveFeedOptions> options, IOptions<JsonOptions> json, TimeProvider time,
        IHostApplicationLifetime lifetime, ILogger<DeliveryFeed> logger)
    {
        _source = source;
        _options = options.Value;
        _json = json.Value.SerializerOptions;
        _time = time;
        _logger = logger;

        // Open event streams would hold a graceful shutdown for its whole timeout: they end first.
        _stopping = lifetime.ApplicationStopping.Register(Close);
    }

    /// <summary>How many deliveries are watched right now (one loop each).</summary>
    public int WatchedDeliveries
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>
    /// The delivery's events from now on, starting with its current state (view, whole timeline,
    /// charts). Ends when <paramref name="cancellationToken"/> fires, when the subscriber falls more than
    /// <see cref="LiveFeedOptions.SubscriberBuffer"/> events behind, or when the silo stops.
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> SubscribeAsync(string deliveryId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var subscriber = Attach(deliveryId);
        try
        {
            var reader = subscriber.Events.Reader;
            while (true)
            {
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                if (!more)
                {
                    yield break;
                }

                while (reader.TryRead(out var item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            Detach(subscriber);
        }
    }

    /// <summary>The loop watching <paramref name="deliveryId"/>, if it is watched (tests wait for it to end).</summary>
    internal Task? WatchLoop(string deliveryId)
    {
        lock (_gate)
        {
            return _watchers.TryGetValue(deliveryId, out var watcher) ? watcher.Loop : null;
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        Close();
    }

    private Subscriber Attach(string deliveryId)
    {
        var subscriber = new Subscriber(deliveryId, System.Threading.Channels.Channel.CreateBounded<SseItem<string>>(
            new BoundedChannelOptions(_options.SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }));
        lock (_gate)
        {
            if (_closed)
            {
                subscriber.Events.Writer.TryComplete();
                return subscriber;
            }

            if (!_watchers.TryGetValue(deliveryId, out var watcher))
            {
                watcher = new Watcher(this, deliveryId);
                _watchers[deliveryId] = watcher;
                watcher.Start();
            }

            watcher.Add(subscriber);
        }

        return subscriber;
    }

    private void Detach(Subscriber subscriber)
    {
        Watcher? stopped = null;
        lock (_gate)
        {
            if (_watchers.TryGetValue(subscriber.DeliveryId, out var watcher) && watcher.Remove(subscriber) == 0)
            {
                _watchers.Remove(subscriber.DeliveryId);
                stopped = watcher;
            }
        }

        subscriber.Events.Writer.TryComplete();
        stopped?.Stop();
    }

    private void Close()
    {
        List<Watcher> watchers;
        lock (_gate)
        {
            _closed = true;
            watchers = [.. _watchers.Values];
            _watchers.Clear();
        }

        foreach (var watcher in watchers)
        {
            watcher.Stop();
            watcher.CompleteAll();
        }
    }

    private sealed record Subscriber(string DeliveryId, Channel<SseItem<string>> Events);

    /// <summary>One watched delivery: its loop, its subscribers and the latest events a newcomer starts from.</summary>
    private sealed class Watcher(DeliveryFeed feed, string deliveryId)
    {
        private readonly Lock _lock = new();
        private readonly List<Subscriber> _subscribers = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TimelinePoint> _points = [];
        private SseItem<string>? _view;
        private SseItem<string>? _charts;
        private SseItem<string>? _wholeTimeline;
        private SseItem<string>? _pace;
        private SseItem<string>? _reports;
        private (long Bounces, long Clicks)? _reportedFigures;
        private DateTimeOffset _reportsReadAt = DateTimeOffset.MinValue;
        private IReadOnlyList<DomainStats> _domains = [];
        private bool _domainsStale = true;
        private DateTimeOffset _domainsReadAt = DateTimeOffset.MinValue;
        private DateTimeOffset _timelineFetchedAt = DateTimeOffset.MinValue;
        private bool _timelineRead;
        private int _failures;

        public Task Loop { get; private set; } = Task.CompletedTask;

        public void Start() => Loop = Task.Run(() => RunAsync(_stop.Token));

        public void Stop() => _stop.Cancel();

        public void Add(Subscriber subscriber)
        {
            lock (_lock)
            {
                _subscribers.Add(subscriber);
                if (_view is { } view)
                {
                    Offer(subscriber, view);
                    if (_timelineRead)
                    {
                        Offer(subscriber, _wholeTimeline ??= TimelineItem(_points, reset: true));
                    }

                    if (_charts is { } charts)
                    {
                        Offer(subscriber, charts);
                    }

                    if (_pace is { } pace)
                    {
                        Offer(subscriber, pace);
                    }

                    if (_reports is { } reports)
                    {
                        Offer(subscriber, reports);
                    }
                }
            }
        }

        /// <summary>Removes <paramref name="subscriber"/>; answers how many remain.</summary>
        public int Remove(Subscriber subscriber)
        {
            lock (_lock)
            {
                _subscribers.Remove(subscriber);
                return _subscribers.Count;
            }
        }

        public void CompleteAll()
        {
            lock (_lock)
            {
                foreach (var subscriber in _subscribers)
                {
                    subscriber.Events.Writer.TryComplete();
                }
            }
        }

        private async Task RunAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(feed._options.PollPeriod, feed._time);
            try
            {
                do
                {
                    await ReadOnceAsync(stop);
                }
                while (await timer.WaitForNextTickAsync(stop));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The last subscriber left.
            }
        }

        private async Task ReadOnceAsync(CancellationToken stop)
        {
            try
            {
                var view = await feed._source.GetViewAsync(deliveryId);
                stop.ThrowIfCancellationRequested();
                var json = JsonSerializer.Serialize(view, feed._json);
                if (_view?.Data != json)
                {
                    _domainsStale = true;
                    lock (_lock)
                    {
                        _view = new SseItem<string>(json, ViewEvent);
                        Publish(_view.Value);
                    }
                }

                if (TimelineBehind(view))
                {
                    await ReadTimelineAsync(stop);
                }

                await PaceAsync(view, stop);
                await ReportsAsync(view, stop);

                _failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                // A silo going away or a call timing out: the next tick tries again.
                if (_failures++ == 0)
                {
                    LogReadFailed(feed._logger, deliveryId, ex.Message);
                }
            }
        }

        /// <summary>
        /// Fetch new points when the counts differ from the last point held (the grain takes its point
        /// up to a step after the counts move), at most once per <see cref="LiveFeedOptions.TimelinePeriod"/>;
        /// before its first point, once the delivery has started.
        /// </summary>
        private bool TimelineBehind(DeliveryView view)
        {
            if (!_timelineRead)
            {
                return true;
            }

            var now = feed._time.GetUtcNow();
            var behind = _points.Count == 0
                ? view.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled)
                : !TimelinePoint.Of(view.Kpis, now).SameCounts(_points[^1]);
            return behind && now - _timelineFetchedAt >= feed._options.TimelinePeriod;
        }

        private async Task ReadTimelineAsync(CancellationToken stop)
        {
            _timelineFetchedAt = feed._time.GetUtcNow();
            var reset = !_timelineRead;
            var after = _points.Count > 0 ? _points[^1].At : (DateTimeOffset?)null;
            var points = await feed._source.GetPointsAsync(deliveryId, after);
            var fresh = points.Where(p => after is not { } last || p.At > last).ToList();
            if (!reset && fresh.Count == 0)
            {
                return;
            }

            if (_points.Count + fresh.Count > DeliveryGrain.MaxTimelinePoints)
            {
                // The grain thinned its older half meanwhile: start again from its series.
                fresh = [.. await feed._source.GetPointsAsync(deliveryId, null)];
                reset = true;
            }

            stop.ThrowIfCancellationRequested();
            var charts = new SseItem<string>(DeliveryCharts.Render(reset ? fresh : [.. _points, .. fresh]), ChartsEvent);
            lock (_lock)
            {
                if (reset)
                {
                    _points.Clear();
                }

                _points.AddRange(fresh);
                _timelineRead = true;
                _wholeTimeline = null;
                _charts = charts;
                Publish(TimelineItem(reset ? _points : fresh, reset));
                Publish(charts);
            }
        }

        /// <summary>The pace from the points held and the view just read; the domains read again when due.</summary>
        private async Task PaceAsync(DeliveryView view, CancellationToken stop)
        {
            var now = feed._time.GetUtcNow();
            var since = now - _domainsReadAt;
            var started = view.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled);
            if (started && view.Recurrence is null
                && ((_domainsStale && since >= DomainsPeriod) || (view.Status == DeliveryStatus.InProgress && since >= DomainsRefresh)))
            {
                _domainsReadAt = now;
                _domainsStale = false;
                _domains = await feed._source.GetDomainsAsync(deliveryId);
                stop.ThrowIfCancellationRequested();
            }

            var json = JsonSerializer.Serialize(DeploymentPace.Of(view, _points, _domains, now), feed._json);
            if (_pace?.Data != json)
            {
                lock (_lock)
                {
                    _pace = new SseItem<string>(json, PaceEvent);
                    Publish(_pace.Value);
                }
            }
        }

        /// <summary>The reports, read again once their figures moved and <see cref="ReportsPeriod"/> passed since the last read.</summary>
        private async Task ReportsAsync(DeliveryView view, CancellationToken stop)
        {
            var now = feed._time.GetUtcNow();
            var figures = (view.Kpis.BouncesAndErrors, view.Kpis.Clicks);
            var started = view.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled);
            if (!started || view.Recurrence is not null || _reportedFigures == figures || now - _reportsReadAt < ReportsPeriod)
            {
                return;
            }

            _reportsReadAt = now;
            var bounces = feed._source.GetBouncesAsync(deliveryId);
            var links = view.Channel == DeliveryGrains.Deliveries.Channel.Email ? feed._source.GetLinksAsync(deliveryId) : null;
            var data = new ReportsEventData(await bounces, links is null ? null : await links);
            stop.ThrowIfCancellationRequested();
            _reportedFigures = figures;
            var json = JsonSerializer.Serialize(data, feed._json);
            if (_reports?.Data != json)
            {
                lock (_lock)
                {
                    _reports = new SseItem<string>(json, ReportsEvent);
                    Publish(_reports.Value);
                }
            }
        }

        private SseItem<string> TimelineItem(IReadOnlyList<TimelinePoint> points, bool reset) =>
            new(JsonSerializer.Serialize(new TimelineEventData(points, reset), feed._json), TimelineEvent);

        /// <summary>Hands <paramref name="item"/> to every subscriber; called holding <see cref="_lock"/>.</summary>
        private void Publish(SseItem<string> item)
        {
            foreach (var subscriber in _subscribers)
            {
                Offer(subscriber, item);
            }
        }

        /// <summary>A subscriber too far behind is let go: its stream ends and a browser reconnects to a fresh state.</summary>
        private static void Offer(Subscriber subscriber, SseItem<string> item)
        {
            if (!subscriber.Events.Writer.TryWrite(item))
            {
                subscriber.Events.Writer.TryComplete();
            }
        }
    }

    private sealed record ReportsEventData(IReadOnlyList<BounceCount> Bounces, IReadOnlyList<DeliveryGrains.Tracking.LinkCount>? Links);

    private sealed record TimelineEventData(IReadOnlyList<TimelinePoint> Points, bool Reset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live feed of delivery {DeliveryId}: reading it failed ({Error}); trying again on the next tick")]
    private static partial void LogReadFailed(ILogger logger, string deliveryId, string error);
}
