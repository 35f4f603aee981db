namespace DeliveryGrains.Hosting;

/// <summary>
/// Serializes and coalesces writes of one grain's state when several turns may change it
/// (a reentrant grain, or a grain with background work). <see cref="SaveAsync"/> completes only
/// once a write that began after the caller's change has completed; at most one write is in flight.
/// </summary>
internal sealed class StateWriter(Func<Task> write)
{
    private Task? _writing;
    private bool _dirty;

    public async Task SaveAsync()
    {
        _dirty = true;
        while (_dirty)
        {
            if (_writing is { } inFlight)
            {
                // That write may have begun before this change: wait for it, then look again.
                await inFlight;
                continue;
            }

            _dirty = false;
            _writing = write();
            try
            {
                await _writing;
            }
            catch
            {
                _dirty = true;
                throw;
            }
            finally
            {
                _writing = null;
            }
        }
    }
}
