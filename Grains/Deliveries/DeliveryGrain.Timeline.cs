using DeliveryGrains.Hosting;
using DeliveryGrains.Profiles;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

[GenerateSerializer, Alias("DeliveryTimelineState")]
public sealed class DeliveryTimelineState
{
    [Id(0)] public List<TimelinePoint> Points { get; set; } = [];
}

/// <summary>
/// The KPI timeline behind the console's charts and the catalog entry behind its deliveries page.
/// The timeline takes a point when the figures changed: at most one a second while relaying, while
/// answers are still awaited (messages Pending) and in the first hour after the start, so the chart
/// does not trail the Deployment block while feedback arrives; one a minute later; past <see cref="MaxTimelinePoints"/>
/// the older half is thinned. It is stored apart from the delivery's state, at most every
/// <see cref="TimelineSavePeriod"/>, so the counts' frequent writes do not carry it.
/// </summary>
public sealed partial class DeliveryGrain
{
    public const int MaxTimelinePoints = 3000;
    private static readonly TimeSpan TimelineSavePeriod = TimeSpan.FromSeconds(10);

    private StateWriter? _timelineWriter;
    private bool _timelineUnsaved;
    private DateTimeOffset _timelineSavedAt;
    private DeliverySummary? _catalogued;

    private StateWriter TimelineWriter => _timelineWriter ??= new StateWriter(() => timeline.WriteStateAsync());

    private List<TimelinePoint> Points => timeline.State.Points;

    public Task<Timeline> GetTimelineAsync()
    {
        _ = Definition;
        return Task.FromResult(new Timeline(Points.ToArray()));
    }

    public Task<Timeline> GetTimelineSinceAsync(DateTimeOffset after)
    {
        _ = Definition;
        var points = Points;
        var first = points.Count;
        while (first > 0 && points[first - 1].At > after)
        {
            first--;
        }

        return Task.FromResult(new Timeline(points.GetRange(first, points.Count - first).ToArray()));
    }

    private void StartTimeline()
    {
        _catalogued = Summary();
        _timelineSavedAt = time.GetUtcNow();
        this.RegisterGrainTimer(SampleTimelineAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
    }

    private async Task SampleTimelineAsync(CancellationToken cancellationToken)
    {
        if (S.Definition is null || (S.StartedAt is null && !(IsTemplate && S.Status == DeliveryStatus.InProgress)))
        {
            return;
        }

        var now = time.GetUtcNow();
        if (Points.Count == 0)
        {
            // The charts start from nothing at the start of relaying.
            Points.Add(new TimelinePoint(S.StartedAt ?? S.FirstRunAt ?? now, 0, 0, 0, 0, 0, 0, 0));
            _timelineUnsaved = true;
        }

        var point = TimelinePoint.Of(Kpis(), now);
        var last = Points[^1];
        if (!point.SameCounts(last) && now - last.At >= TimelineStep(S.Status, S.StartedAt, point.Pending, now))
        {
            Points.Add(point);
            _timelineUnsaved = true;
            if (Points.Count > MaxTimelinePoints)
            {
                ThinOlderHalf(Points);
            }
        }

        if (_timelineUnsaved && (now - _timelineSavedAt >= TimelineSavePeriod || !IsRunning))
        {
            await SaveTimelineAsync();
        }
    }

    private async Task SaveTimelineAsync()
    {
        _timelineUnsaved = false;
        _timelineSavedAt = time.GetUtcNow();
        try
        {
            await TimelineWriter.SaveAsync();
        }
        catch (Exception ex)
        {
            _timelineUnsaved = true;
            LogTimelineNotSaved(Id, ex.Message);
        }
    }

    /// <summary>The least time between two points of the timeline (see the type's summary).</summary>
    internal static TimeSpan TimelineStep(DeliveryStatus status, DateTimeOffset? startedAt, long pending, DateTimeOffset now) =>
        status == DeliveryStatus.InProgress || pending > 0 || now - (startedAt ?? now) < TimeSpan.FromHours(1)
            ? TimeSpan.FromSeconds(1)
            : TimeSpan.FromMinutes(1);

    /// <summary>Drops every second point of the older half: old history gets coarser, recent stays fine.</summary>
    internal static void ThinOlderHalf(List<TimelinePoint> points)
    {
        var half = points.Count / 2;
        var kept = new List<TimelinePoint>(points.Count);
        for (var i = 0; i < points.Count; i++)
        {
            if (i >= half || i % 2 == 0)
            {
                kept.Add(points[i]);
            }
        }

        points.Clear();
        points.AddRange(kept);
    }

    private DeliverySummary? Summary() => S.Definition is { } d
        ? new DeliverySummary(Id, d.Name, d.Channel, S.Status, S.CreatedAt, S.TemplateId)
        : null;

    /// <summary>Writes the delivery's state, then tells the catalog when its name or status changed.</summary>
    private async Task WriteStateAndCatalogAsync()
    {
        await state.WriteStateAsync();
        // While the cluster's last silo stops the catalog is called no more; the next change tells it.
        if (!departure.IsLeaving && Summary() is { } summary && summary != _catalogued && _catalogued is not null)
        {
            try
            {
                await CatalogAsync(summary);
            }
            catch (Exception ex)
            {
                // The next write tries again; the delivery's own view stays the truth meanwhile.
                LogCatalogNotUpdated(Id, ex.Message);
            }
        }
    }

    private async Task CatalogAsync(DeliverySummary summary)
    {
        await GrainFactory.GetGrain<IDeliveryCatalogGrain>(0).RecordAsync(summary);
        _catalogued = summary;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: timeline not saved: {Error}")]
    private partial void LogTimelineNotSaved(string deliveryId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: catalog not updated: {Error}")]
    private partial void LogCatalogNotUpdated(string deliveryId, string error);
}
