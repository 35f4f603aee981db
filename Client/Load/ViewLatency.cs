using System.Diagnostics;

namespace DeliveryGrains.Client.Load;

/// <summary>How long the delivery-view reads of a run took (the Orleans call, from the client).</summary>
/// <param name="Count">Reads timed.</param>
/// <param name="MedianMs">Median, nearest rank.</param>
/// <param name="P95Ms">95th percentile, nearest rank.</param>
/// <param name="MaxMs">Slowest read.</param>
/// <param name="Skipped">Poll ticks that started no read because that delivery already had the most reads waiting.</param>
public sealed record ViewLatencyFigures(int Count, double? MedianMs, double? P95Ms, double? MaxMs, int Skipped = 0);

/// <summary>Times every <c>GetViewAsync</c> the load tool makes while it polls; thread-safe.</summary>
public sealed class ViewLatency
{
    private readonly List<double> _milliseconds = [];
    private readonly Lock _lock = new();
    private int _skipped;

    /// <summary>Reads the view of <paramref name="grain"/>, timing the call.</summary>
    public async Task<Deliveries.DeliveryView> ReadAsync(Deliveries.IDeliveryGrain grain)
    {
        var started = Stopwatch.GetTimestamp();
        var view = await grain.GetViewAsync();
        Add(Stopwatch.GetElapsedTime(started));
        return view;
    }

    public void Add(TimeSpan elapsed)
    {
        lock (_lock)
        {
            _milliseconds.Add(elapsed.TotalMilliseconds);
        }
    }

    /// <summary>Counts a tick that started no read (too many waiting).</summary>
    public void Skip() => Interlocked.Increment(ref _skipped);

    public ViewLatencyFigures Figures()
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = [.. _milliseconds];
        }

        Array.Sort(sorted);
        return sorted.Length == 0
            ? new ViewLatencyFigures(0, null, null, null, Volatile.Read(ref _skipped))
            : new ViewLatencyFigures(sorted.Length, Percentile(sorted, 0.5), Percentile(sorted, 0.95), sorted[^1], Volatile.Read(ref _skipped));
    }

    /// <summary>Nearest rank: the smallest value with at least <paramref name="q"/> of the values at or below it.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
