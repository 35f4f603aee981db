namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// One destination domain's sending rate (R12.3): messages are spaced to the current rate per minute;
/// a deferral halves it (multiplicative decrease, down to the floor), and every
/// <see cref="SmtpOptions.RecoveryAfter"/> successes raise it by a tenth (back up to the cap). Deferrals
/// of messages sent before the last decrease answer traffic that decrease already slowed, and a
/// decrease waits <see cref="SmtpOptions.RateDecreaseInterval"/> after the previous one to show its
/// effect, so one burst of refusals is one step down, not ten.
/// </summary>
public sealed class AdaptiveRate(SmtpOptions options, TimeProvider time)
{
    /// <summary>After a pause a domain may take this much of its rate at once.</summary>
    private static readonly TimeSpan Burst = TimeSpan.FromMilliseconds(50);

    private readonly Lock _lock = new();
    private double _perMinute = options.RateCapPerMinute;
    private DateTimeOffset _nextSlot = DateTimeOffset.MinValue;
    private DateTimeOffset _lastDecrease = DateTimeOffset.MinValue;
    private int _successes;
    private long _decreases;

    public int PerMinute
    {
        get
        {
            lock (_lock)
            {
                return (int)Math.Round(_perMinute);
            }
        }
    }

    /// <summary>How many times deferrals lowered the rate.</summary>
    public long Decreases => Interlocked.Read(ref _decreases);

    /// <summary>Takes the next sending slot and answers how long to wait for it.</summary>
    public TimeSpan Reserve()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var earliest = now - Burst;
            var slot = _nextSlot < earliest ? earliest : _nextSlot;
            _nextSlot = slot + TimeSpan.FromMinutes(1 / _perMinute);
            return slot > now ? slot - now : TimeSpan.Zero;
        }
    }

    /// <summary>A message sent at <paramref name="sentAt"/> was deferred.</summary>
    public void Deferred(DateTimeOffset sentAt)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (sentAt < _lastDecrease || now - _lastDecrease < options.RateDecreaseInterval)
            {
                return;
            }

            _perMinute = Math.Max(options.MinRatePerMinute, _perMinute / 2);
            _lastDecrease = now;
            _decreases++;
        }
    }

    /// <summary>A transaction was answered (relayed or refused): the server is taking traffic.</summary>
    public void Answered()
    {
        lock (_lock)
        {
            if (_perMinute >= options.RateCapPerMinute || ++_successes < options.RecoveryAfter)
            {
                return;
            }

            _successes = 0;
            _perMinute = Math.Min(options.RateCapPerMinute, _perMinute * 1.1 + 1);
        }
    }
}
