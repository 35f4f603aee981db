using System.Diagnostics.Metrics;
using System.Threading.Channels;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Tracking;

/// <summary>What became of one tracking hit.</summary>
public enum HitOutcome
{
    /// <summary>Stored by its partition (or found there already): it counts.</summary>
    Recorded,

    /// <summary>Signed by us, but the partition relayed no such message (the delivery is gone): nothing to count.</summary>
    NoMessage,

    /// <summary>The partition could not be reached after every try: not counted.</summary>
    NotStored,
}

/// <summary>
/// The road of tracking hits into the partitions (R13.2): each answered request puts its hit here and
/// waits; one loop takes whatever has gathered, groups it by partition and sends each group in one
/// call (<see cref="IDeliveryPartitionGrain.ApplyTrackingAsync"/>), a bounded number of calls in
/// flight. Under load a call carries many hits; when idle a hit goes at once, with no waiting window.
/// A call that fails is tried again with the same hit ids, so a hit stored by a call whose answer was
/// lost is not counted twice. The request is answered once its hit is stored.
/// </summary>
public sealed partial class TrackingRecorder : BackgroundService
{
    private const int MaxBatch = 2048;
    private const int CallsInFlight = 32;
    private const int MaxTries = 5;
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly IGrainFactory _grains;
    private readonly ILogger<TrackingRecorder> _logger;
    private readonly Counter<long> _hits;
    private readonly System.Threading.Channels.Channel<Pending> _queue = System.Threading.Channels.Channel.CreateBounded<Pending>(new BoundedChannelOptions(100_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public TrackingRecorder(IGrainFactory grains, IMeterFactory meters, ILogger<TrackingRecorder> logger)
    {
        _grains = grains;
        _logger = logger;
        _hits = meters.Create("DeliveryGrains").CreateCounter<long>(
            "deliverygrains.tracking.hits", "{hit}", "Tracking hits (opens and clicks) by outcome: recorded, no_message, not_stored.");
    }

    /// <summary>Hands one hit to its partition and answers once it is stored (or could not be).</summary>
    public async Task<HitOutcome> RecordAsync(string deliveryId, int partition, TrackingHit hit, CancellationToken cancellationToken)
    {
        var pending = new Pending(deliveryId, partition, hit, new TaskCompletionSource<HitOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        var outcome = await pending.Done.Task;
        _hits.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
        {
            HitOutcome.Recorded => "recorded",
            HitOutcome.NoMessage => "no_message",
            _ => "not_stored",
        }));
        return outcome;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inFlight = new SemaphoreSlim(CallsInFlight);
        var running = new HashSet<Task>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                var taken = new List<Pending>();
                while (taken.Count < MaxBatch * 4 && _queue.Reader.TryRead(out var item))
                {
                    taken.Add(item);
                }

                foreach (var group in taken.GroupBy(p => (p.DeliveryId, p.Partition)))
                {
                    foreach (var chunk in group.Chunk(MaxBatch))
                    {
                        await inFlight.WaitAsync(stoppingToken);
                        var task = SendAsync(group.Key.DeliveryId, group.Key.Partition, chunk, inFlight);
                        lock (running)
                        {
                            running.Add(task);
                        }

                        _ = task.ContinueWith(t =>
                        {
                            lock (running)
                            {
                                running.Remove(t);
                            }
                        }, TaskScheduler.Default);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the calls in flight finish below; what is still queued is answered as not stored.
        }

        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAll(left);
        while (_queue.Reader.TryRead(out var item))
        {
            item.Done.TrySetResult(HitOutcome.NotStored);
        }
    }

    private async Task SendAsync(string deliveryId, int partition, Pending[] chunk, SemaphoreSlim inFlight)
    {
        try
        {
            var hits = chunk.Select(p => p.Hit).ToList();
            var grain = _grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(deliveryId, partition));
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var unknown = (await grain.ApplyTrackingAsync(hits)).ToHashSet();
                    foreach (var p in chunk)
                    {
                        p.Done.TrySetResult(unknown.Contains(p.Hit.RecipientIndex) ? HitOutcome.NoMessage : HitOutcome.Recorded);
                    }

                    return;
                }
                catch (Exception ex) when (attempt < MaxTries)
                {
                    // The same hit ids go again: a call that was stored but not answered counts them once.
                    LogRetrying(ex, chunk.Length, attempt);
                    await Task.Delay(FirstRetryDelay * (1 << (attempt - 1)));
                }
                catch (Exception ex)
                {
                    LogNotStored(ex, chunk.Length, MaxTries);
                    foreach (var p in chunk)
                    {
                        p.Done.TrySetResult(HitOutcome.NotStored);
                    }

                    return;
                }
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    private sealed record Pending(string DeliveryId, int Partition, TrackingHit Hit, TaskCompletionSource<HitOutcome> Done);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tracking: {Count} hits of one partition not stored on try {Attempt}; trying again")]
    private partial void LogRetrying(Exception ex, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tracking: {Count} hits of one partition could not be stored after {Tries} tries")]
    private partial void LogNotStored(Exception ex, int count, int tries);
}
