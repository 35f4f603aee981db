using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Tests.Scenarios;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>R12.3: a domain whose server takes no connection is probed, not hammered, and resumes at once when a probe connects.</summary>
public sealed class ConnectionBreakerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    [Trait("Rule", "R12.3")]
    public void A_closed_breaker_holds_nobody()
    {
        var breaker = new ConnectionBreaker(Interval, _clock);

        Assert.Equal(TimeSpan.Zero, breaker.Hold());
        Assert.Equal(TimeSpan.Zero, breaker.Hold());
        Assert.False(breaker.IsOpen);
    }

    [Fact]
    [Trait("Rule", "R12.3")]
    public void After_no_connection_every_connection_waits_for_the_next_probe()
    {
        var breaker = new ConnectionBreaker(Interval, _clock);

        breaker.NoConnection();
        _clock.Advance(TimeSpan.FromMilliseconds(300));

        Assert.True(breaker.IsOpen);
        Assert.Equal(TimeSpan.FromMilliseconds(700), breaker.Hold());
        Assert.Equal(TimeSpan.FromMilliseconds(700), breaker.Hold());
    }

    [Fact]
    [Trait("Rule", "R12.3")]
    public void One_connection_probes_when_due_while_the_others_keep_waiting()
    {
        var breaker = new ConnectionBreaker(Interval, _clock);
        breaker.NoConnection();
        _clock.Advance(Interval);

        var probe = breaker.Hold();
        var other = breaker.Hold();

        Assert.Equal(TimeSpan.Zero, probe);
        Assert.Equal(Interval, other);
    }

    [Fact]
    [Trait("Rule", "R12.3")]
    public void A_failed_probe_sets_the_next_one_an_interval_later()
    {
        var breaker = new ConnectionBreaker(Interval, _clock);
        breaker.NoConnection();
        _clock.Advance(Interval);
        Assert.Equal(TimeSpan.Zero, breaker.Hold());

        _clock.Advance(TimeSpan.FromMilliseconds(100));
        breaker.NoConnection();

        Assert.Equal(Interval, breaker.Hold());
        Assert.Equal(1, breaker.Openings);
    }

    [Fact]
    [Trait("Rule", "R12.3")]
    public void A_probe_that_connects_lets_every_connection_go_at_once()
    {
        var breaker = new ConnectionBreaker(Interval, _clock);
        breaker.NoConnection();
        _clock.Advance(Interval);
        Assert.Equal(TimeSpan.Zero, breaker.Hold());

        breaker.Connected();

        Assert.False(breaker.IsOpen);
        Assert.Equal(TimeSpan.Zero, breaker.Hold());
        Assert.Equal(TimeSpan.Zero, breaker.Hold());
    }

    [Fact]
    [Trait("Rule", "R12.3")]
    public void A_probe_that_never_reports_leaves_the_next_probe_to_another_connection()
    {
        var breaker = new ConnectionBreaker(Interval, _clock);
        breaker.NoConnection();
        _clock.Advance(Interval);
        Assert.Equal(TimeSpan.Zero, breaker.Hold());

        _clock.Advance(Interval);

        Assert.Equal(TimeSpan.Zero, breaker.Hold());
        Assert.Equal(1, breaker.Openings);
    }
}
