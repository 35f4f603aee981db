using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Mta;

/// <summary>
/// The simulated Enhanced MTA: takes relayed messages, decides their outcomes with
/// <see cref="SimulatedOutcomes"/> and, after the feedback delay, posts the events back. Feedback
/// that falls due together goes to each partition in one batch (the partition hands each log its
/// events), so a million messages cost thousands of calls from here, not a million. Events not yet
/// due live only in this process, as in a real MTA's queue. It counts the attempts it takes per
/// message id and attempt (<see cref="DeliveryMetrics.SimulatorTook"/>), so a relay repeated for one
/// attempt shows in this silo's <c>/metrics</c>.
/// </summary>
public sealed partial class SimulatedMta(
    IGrainFactory grains,
    SimulatorClock clock,
    IOptions<MtaOptions> options,
    DeliveryMetrics metrics,
    ILogger<SimulatedMta> logger) : BackgroundService
{
    private readonly TimeProvider time = clock.Time;

    /// <summary>Message attempts remembered for the repeat count; past this many the memory starts over, so it stays bounded on any delivery.</summary>
    private const int RememberedAttempts = 4_000_000;

    /// <summary>A batch that failed (say its partition's silo died) is offered again this often, this many times.</summary>
    private static readonly TimeSpan RedeliveryDelay = TimeSpan.FromSeconds(1);
    private const int MaxTries = 10;

    private readonly PriorityQueue<DueFeedback, DateTimeOffset> _due = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0);
    private int _signalled;
    private readonly HashSet<ulong> _taken = [];
    private readonly Lock _takenLock = new();

    /// <summary>Outcomes taken and not yet handed to their partition or given up on.</summary>
    private readonly QueueRoom _room = new(options.Value.SimulatorMaxQueued);

    /// <summary>Outcomes waiting in this simulator's queue.</summary>
    public int Queued => _room.Count;

    /// <summary>Relays waiting for room in the queue.</summary>
    public int WaitingForRoom => _room.Waiting;

    /// <summary>
    /// Takes the message once the queue has room. A real MTA refuses mail when its queue is full; the
    /// simulator makes the relay wait instead, so a relay faster than the feedback can be applied (ten
    /// million messages on two cores) keeps at most <see cref="MtaOptions.SimulatorMaxQueued"/>
    /// outcomes in memory, not millions. The message is taken after the wait, in the caller's turn,
    /// so its outcome cannot reach the log before the caller has marked it relayed.
    /// </summary>
    public ValueTask AcceptAsync(OutboundMessage message)
    {
        if (_room.HasRoom)
        {
            Accept(message);
            return ValueTask.CompletedTask;
        }

        return AcceptWhenRoomAsync(message);
    }

    private void Accept(OutboundMessage message)
    {
        bool repeated;
        lock (_takenLock)
        {
            if (_taken.Count >= RememberedAttempts)
            {
                _taken.Clear();
            }

            repeated = !_taken.Add(Fingerprint(message.MessageId));
        }

        metrics.SimulatorTook(repeated);
        var dueAt = time.GetUtcNow() + message.Mta.EffectiveFeedbackDelay;
        var events = SimulatedOutcomes.For(message, dueAt);
        Schedule(message, events, dueAt);
    }

    /// <summary>Posts <paramref name="events"/> of one message back to its log at <paramref name="dueAt"/>, batched with the rest due then.</summary>
    internal void Schedule(OutboundMessage message, IReadOnlyList<FeedbackEvent> events, DateTimeOffset dueAt)
    {
        _room.Added();
        Enqueue(new DueFeedback(message.DeliveryId, message.Partition, new LogFeedback(message.RecipientIndex, events), Tries: 0), dueAt);
    }

    private async ValueTask AcceptWhenRoomAsync(OutboundMessage message)
    {
        await _room.WaitAsync();
        Accept(message);
    }

    /// <summary><paramref name="count"/> outcomes left the queue (handed over or given up on).</summary>
    private void Left(int count) => _room.Left(count);

    /// <summary>A 64-bit FNV-1a hash of the message id: 8 bytes per remembered attempt, collisions negligible below billions.</summary>
    private static ulong Fingerprint(string messageId)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in messageId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inFlight = new SemaphoreSlim(options.Value.SimulatorConcurrency);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = DrainDue(out var ready);
            foreach (var batch in Batches(ready, options.Value.SimulatorBatchSize))
            {
                await inFlight.WaitAsync(stoppingToken);
                _ = DeliverAsync(batch, inFlight);
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

    private void Enqueue(DueFeedback feedback, DateTimeOffset dueAt)
    {
        lock (_lock)
        {
            _due.Enqueue(feedback, dueAt);
        }

        // One pending wake-up is enough: the loop drains everything that is due when it runs.
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _wake.Release();
        }
    }

    private TimeSpan DrainDue(out List<DueFeedback> ready)
    {
        ready = [];
        var now = time.GetUtcNow();
        lock (_lock)
        {
            while (ready.Count < 16_384 && _due.TryPeek(out _, out var dueAt) && dueAt <= now)
            {
                ready.Add(_due.Dequeue());
            }

            return _due.TryPeek(out _, out var next) ? Clamp(next - now) : Timeout.InfiniteTimeSpan;
        }
    }

    /// <summary>The due feedback grouped by partition, at most <paramref name="size"/> logs per batch.</summary>
    private static IEnumerable<List<DueFeedback>> Batches(List<DueFeedback> ready, int size) =>
        ready.GroupBy(f => (f.DeliveryId, f.Partition)).SelectMany(partition => partition.Chunk(size).Select(chunk => chunk.ToList()));

    private static TimeSpan Clamp(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;

    private async Task DeliverAsync(List<DueFeedback> batch, SemaphoreSlim inFlight)
    {
        var first = batch[0];
        try
        {
            var failed = await grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(first.DeliveryId, first.Partition))
                .ApplyFeedbackAsync(batch.Select(f => f.Feedback).ToList());
            if (failed.Count > 0)
            {
                var again = failed.ToHashSet();
                var offered = batch.Where(f => again.Contains(f.Feedback.RecipientIndex)).ToList();
                Left(batch.Count - offered.Count);
                OfferAgain(offered, exception: null);
            }
            else
            {
                Left(batch.Count);
            }
        }
        catch (Exception ex)
        {
            OfferAgain(batch, ex);
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>Event ids make a repeat harmless, so feedback a log could not take is offered again, a bounded number of times.</summary>
    private void OfferAgain(List<DueFeedback> feedback, Exception? exception)
    {
        var first = feedback[0];
        var dueAt = time.GetUtcNow() + RedeliveryDelay;
        var dropped = 0;
        foreach (var f in feedback)
        {
            if (f.Tries + 1 < MaxTries)
            {
                Enqueue(f with { Tries = f.Tries + 1 }, dueAt);
            }
            else
            {
                dropped++;
            }
        }

        if (dropped > 0)
        {
            Left(dropped);
            LogFeedbackDropped(exception, dropped, first.DeliveryId, MaxTries);
        }
        else
        {
            LogFeedbackOfferedAgain(exception, feedback.Count, first.DeliveryId);
        }
    }

    private sealed record DueFeedback(string DeliveryId, int Partition, LogFeedback Feedback, int Tries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulated MTA could not deliver feedback for {Count} messages of delivery {DeliveryId} after {Tries} tries; they settle at the end of the validity period")]
    private partial void LogFeedbackDropped(Exception? ex, int count, string deliveryId, int tries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulated MTA will offer feedback for {Count} messages of delivery {DeliveryId} again")]
    private partial void LogFeedbackOfferedAgain(Exception? ex, int count, string deliveryId);
}
