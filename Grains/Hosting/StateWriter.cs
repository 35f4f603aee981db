namespace DeliveryGrains.Hosting;

/// <summary>
/// Serializes and coalesces writes of one grain's state when several turns may change it
/// (a reentrant grain, or a grain with background work). <see cref="SaveAsync"/> completes only
/// once a write that began after the caller's change has completed, and fails if that write failed;
/// at most one write is in flight.
/// <para>
/// Each call is numbered, and each write remembers the highest number it began after. A caller whose
/// change came while a write was in flight waits for that write, then for one that covers it: the
/// write in flight holds the state as it was before the change, so its success promises nothing
/// about the change (answering then would acknowledge what a crash could still lose).
/// </para>
/// </summary>
internal sealed class StateWriter(Func<Task> write)
{
    private long _requested;
    private Task? _writing;
    private long _writingCovers;

    public async Task SaveAsync()
    {
        var mine = ++_requested;
        while (true)
        {
            if (_writing is { IsCompleted: false } inFlight)
            {
                var covers = _writingCovers;
                if (covers >= mine)
                {
                    await inFlight;
                    return;
                }

                try
                {
                    await inFlight;
                }
                catch
                {
                    // Not this caller's write: its owner reports the failure; this change is written anew below.
                }

                continue;
            }

            _writingCovers = _requested;
            var writing = write();
            _writing = writing;
            try
            {
                await writing;
                return;
            }
            finally
            {
                if (ReferenceEquals(_writing, writing))
                {
                    _writing = null;
                }
            }
        }
    }
}
