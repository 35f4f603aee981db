namespace DeliveryGrains.Mta;

/// <summary>
/// The room left in an MTA's queue of messages held in memory. A real MTA refuses mail when its
/// queue is full; ours make the relaying partition wait for room instead, so a delivery faster than
/// its MTA keeps at most <see cref="Limit"/> messages in memory, not all of its recipients. Waiters
/// go on once the queue is a tenth below its limit, not at every message that leaves.
/// </summary>
public sealed class QueueRoom(int limit)
{
    private readonly Lock _lock = new();
    private int _count;
    private int _waiting;
    private bool _closed;
    private TaskCompletionSource? _room;

    public int Limit => limit;

    /// <summary>Messages in the queue.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Relays waiting for room.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public bool HasRoom => Volatile.Read(ref _count) < limit || Volatile.Read(ref _closed);

    /// <summary>Completes once the queue has room (at once when it has); the caller then adds its message.</summary>
    public ValueTask WaitAsync() => HasRoom ? ValueTask.CompletedTask : WaitForRoomAsync();

    public void Added(int count = 1) => Interlocked.Add(ref _count, count);

    /// <summary><paramref name="count"/> messages left the queue (handed over or given up on).</summary>
    public void Left(int count = 1)
    {
        var now = Interlocked.Add(ref _count, -count);
        if (now < limit * 9L / 10 && Volatile.Read(ref _room) is not null)
        {
            Release();
        }
    }

    /// <summary>The queue is closing (the silo stops): no one waits for room any more.</summary>
    public void Close()
    {
        Volatile.Write(ref _closed, true);
        Release();
    }

    private async ValueTask WaitForRoomAsync()
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            while (!HasRoom)
            {
                Task room;
                lock (_lock)
                {
                    room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                }

                // Checked again once registered: a message that left just before would not have seen this waiter.
                if (HasRoom)
                {
                    return;
                }

                await room;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private void Release()
    {
        TaskCompletionSource? room;
        lock (_lock)
        {
            room = _room;
            _room = null;
        }

        room?.TrySetResult();
    }
}
