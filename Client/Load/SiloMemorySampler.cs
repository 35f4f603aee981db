using Orleans.Runtime;

namespace DeliveryGrains.Client.Load;

/// <summary>The highest memory figure the silos reported while a run was sampled.</summary>
public sealed record MemoryPeak(long PeakBytes, long MaximumAvailableBytes, int PeakActivations, int Samples, string? LastError)
{
    /// <summary>Which figure <see cref="PeakBytes"/> is, for people and reports.</summary>
    public const string Figure =
        "SiloRuntimeStatistics.EnvironmentStatistics.RawMemoryUsageBytes (the silo process's managed memory, GC heap incl. fragmentation; the largest silo's)";
}

/// <summary>
/// Samples <see cref="IManagementGrain.GetRuntimeStatistics"/> of every active silo on an interval
/// and keeps the peak of <c>EnvironmentStatistics.RawMemoryUsageBytes</c> (unfiltered, so a short
/// peak is not smoothed away) and of the activation count.
/// </summary>
public sealed class SiloMemorySampler(IGrainFactory grains, TimeSpan interval, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Samples until <paramref name="cancellationToken"/> is cancelled, then answers the peak.</summary>
    public async Task<MemoryPeak> RunAsync(CancellationToken cancellationToken)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        long peak = 0, available = 0;
        int activations = 0, samples = 0;
        string? error = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var hosts = await management.GetHosts(onlyActive: true);
                var statistics = await management.GetRuntimeStatistics([.. hosts.Keys]);
                foreach (var silo in statistics)
                {
                    peak = Math.Max(peak, silo.EnvironmentStatistics.RawMemoryUsageBytes);
                    available = Math.Max(available, silo.EnvironmentStatistics.MaximumAvailableMemoryBytes);
                }

                activations = Math.Max(activations, statistics.Sum(s => s.ActivationCount));
                samples++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                error = ex.Message;
            }

            try
            {
                await Task.Delay(interval, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return new MemoryPeak(peak, available, activations, samples, error);
    }
}
