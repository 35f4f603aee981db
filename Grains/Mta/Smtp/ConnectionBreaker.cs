namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// One destination domain's breaker for "no connection" (R12.3). Halving the rate on every failed
/// connect left a domain crawling for minutes after its server came back, and every message in the
/// queue spent a try and a growing delay on a host that was down. Once a connection cannot be made
/// the breaker opens: the domain's connections hold, and one of them tries a connection each
/// <see cref="SmtpOptions.ProbeInterval"/>. The first probe that connects closes it, and the domain
/// resumes at the rate it had (the last good rate), with its queue as it was.
/// </summary>
public sealed class ConnectionBreaker(TimeSpan probeInterval, TimeProvider time)
{
    private readonly Lock _lock = new();
    private volatile bool _open;
    private DateTimeOffset _nextProbe;
    private long _openings;

    public bool IsOpen => _open;

    /// <summary>How many times the breaker opened.</summary>
    public long Openings => Interlocked.Read(ref _openings);

    /// <summary>
    /// How long a connection must hold before it may send: zero while closed, and zero for the one caller
    /// that takes the next probe; the others wait until the probe's lease (one interval) runs out, so a
    /// probe whose message turned out not to need sending (paused, expired) leaves the next one to another.
    /// </summary>
    public TimeSpan Hold()
    {
        // Every connection asks before every message: a closed breaker answers without the lock.
        if (!_open)
        {
            return TimeSpan.Zero;
        }

        lock (_lock)
        {
            if (!_open)
            {
                return TimeSpan.Zero;
            }

            var now = time.GetUtcNow();
            if (now >= _nextProbe)
            {
                _nextProbe = now + probeInterval;
                return TimeSpan.Zero;
            }

            return _nextProbe - now;
        }
    }

    /// <summary>A connection could not be made: open (or stay open), and the next probe comes one interval from now.</summary>
    public void NoConnection()
    {
        lock (_lock)
        {
            if (!_open)
            {
                _open = true;
                Interlocked.Increment(ref _openings);
            }

            _nextProbe = time.GetUtcNow() + probeInterval;
        }
    }

    /// <summary>A server answered a transaction: the domain sends again.</summary>
    public void Connected()
    {
        // Read before writing: every answered message lands here, and an unconditional write would
        // bounce the field's cache line between the domain's connections.
        if (_open)
        {
            _open = false;
        }
    }
}
