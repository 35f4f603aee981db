using System.Diagnostics;

namespace DeliveryGrains.Client.Load;

/// <summary>How long the delivery-view reads of a run took (the Orleans call, from the client).</summary>
public sealed record ViewLatencyFigures(int Count, double? MedianMs, double? P95Ms, double? MaxMs);

/// <summary>Times every <c>GetViewAsync</c> the load tool makes while it polls; thread-safe.</summary>
public sealed class ViewLatency
{
    private readonly List<double> _milliseconds = [];
    private readonly Lock _lock = new();

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

    public ViewLatencyFigures Figures()
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = [.. _milliseconds];
        }

        Array.Sort(sorted);
        return sorted.Length == 0
            ? new ViewLatencyFigures(0, null, null, null)
            : new ViewLatencyFigures(sorted.Length, Percentile(sorted, 0.5), Percentile(sorted, 0.95), sorted[^1]);
    }

    /// <summary>Nearest rank: the smallest value with at least <paramref name="q"/> of the values at or below it.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
