using System.Collections.Concurrent;
using DeliveryGrains.Mta;

namespace DeliveryGrains.Tests.Infrastructure;

/// <summary>
/// The test silo's relay: the engine's own (<see cref="MtaRouter"/>), except that a test may hold a
/// delivery's messages after a number of them went through, so it can pause or stop while the fan-out
/// is known to be under way, however fast the relay is.
/// </summary>
public sealed class RelayGate(MtaRouter inner) : IMessageRelay
{
    private static readonly ConcurrentDictionary<string, RelayHold> Holds = new(StringComparer.Ordinal);

    /// <summary>From now on, the messages of <paramref name="deliveryId"/> after the first <paramref name="passing"/> wait for <see cref="RelayHold.Release"/>.</summary>
    public static RelayHold Hold(string deliveryId, int passing) => Holds[deliveryId] = new RelayHold(passing);

    public async ValueTask RelayAsync(OutboundMessage message)
    {
        if (Holds.TryGetValue(message.DeliveryId, out var hold))
        {
            await hold.PassAsync();
        }

        await inner.RelayAsync(message);
    }
}

/// <summary>One held delivery: <see cref="Reached"/> completes when a message first waits; <see cref="Release"/> lets every message go.</summary>
public sealed class RelayHold(int passing)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;

    public Task Reached => _reached.Task;

    /// <summary>Messages that came to the gate so far, held or not.</summary>
    public int Passed => Volatile.Read(ref _count);

    public void Release() => _released.TrySetResult();

    internal Task PassAsync()
    {
        if (Interlocked.Increment(ref _count) <= passing)
        {
            return Task.CompletedTask;
        }

        _reached.TrySetResult();
        return _released.Task;
    }
}
