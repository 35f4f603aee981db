using DeliveryGrains.Feedback;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Mta;

/// <summary>
/// The simulated Enhanced MTA: takes relayed messages, decides their outcomes with
/// <see cref="SimulatedOutcomes"/> and, after the feedback delay, posts the events back to the
/// sending logs through the same feedback path a real MTA's feedback takes (one batch per attempt). Events not yet due live only in this process, as in a real MTA's queue.
/// </summary>
public sealed partial class SimulatedMta(
    IGrainFactory grains,
    TimeProvider time,
    IOptions<MtaOptions> options,
    ILogger<SimulatedMta> logger) : BackgroundService
{
    private readonly PriorityQueue<IReadOnlyList<FeedbackEvent>, DateTimeOffset> _due = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0);
    private int _signalled;

    public void Accept(OutboundMessage message)
    {
        var now = time.GetUtcNow();
        var dueAt = now + message.Mta.EffectiveFeedbackDelay;
        var outcome = SimulatedOutcomes.For(message, dueAt);
        lock (_lock)
        {
            _due.Enqueue(outcome, dueAt);
        }

        // One pending wake-up is enough: the loop drains everything that is due when it runs.
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _wake.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inFlight = new SemaphoreSlim(options.Value.SimulatorConcurrency);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = DrainDue(out var ready);
            foreach (var feedback in ready)
            {
                await inFlight.WaitAsync(stoppingToken);
                _ = DeliverAsync(feedback, inFlight);
            }

            if (ready.Count == 0)
            {
                try
                {
                    await _wake.WaitAsync(wait, stoppingToken);
                    Volatile.Write(ref _signalled, 0);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private TimeSpan DrainDue(out List<IReadOnlyList<FeedbackEvent>> ready)
    {
        ready = [];
        var now = time.GetUtcNow();
        lock (_lock)
        {
            while (ready.Count < 4096 && _due.TryPeek(out _, out var dueAt) && dueAt <= now)
            {
                ready.Add(_due.Dequeue());
            }

            return _due.TryPeek(out _, out var next) ? Clamp(next - now) : Timeout.InfiniteTimeSpan;
        }
    }

    private static TimeSpan Clamp(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;

    /// <summary>Everything the MTA says about one attempt goes to its log in one call, as one stored change.</summary>
    private async Task DeliverAsync(IReadOnlyList<FeedbackEvent> feedback, SemaphoreSlim inFlight)
    {
        var first = feedback[0];
        try
        {
            await grains.GetGrain<IRecipientLogGrain>(GrainKeys.Log(first.DeliveryId, first.ProfileId))
                .ApplyFeedbackBatchAsync(feedback);
        }
        catch (Exception ex)
        {
            LogFeedbackFailed(ex, first.DeliveryId, first.Type);
        }
        finally
        {
            inFlight.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulated MTA could not deliver {Type} feedback for delivery {DeliveryId}")]
    private partial void LogFeedbackFailed(Exception ex, string deliveryId, FeedbackType type);
}
