using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Channel = System.Threading.Channels.Channel;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta.Smtp;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Mta.Scenarios;

/// <summary>
/// The simulated MTA under a scenario (R12.5). Each (delivery, domain) is a <see cref="DomainLane"/>:
/// a message is accepted while its minute's count is under the domain's cap; above it the try is an
/// R12.3 deferral (421) and the message waits in the lane's queue, first in first out, and tries
/// again at the next minute, when the lane lets the next cap's worth through. A share of first tries
/// can be greylisted (4.7.1) and tried again after the domain's delay. An accepted first attempt is
/// the log's relay (R12.1, as an SMTP 250); its outcome and then its opens and clicks come back
/// through <see cref="SimulatedMta"/> after the domain's latency and hourly curves, drawn from the
/// delivery's seed. Waiting messages live in this process, as in a real MTA's queue.
/// </summary>
public sealed partial class ScenarioSimulator(
    IGrainFactory grains,
    SimulatorClock clock,
    SimulatedMta simulator,
    ILogger<ScenarioSimulator> logger) : BackgroundService
{
    private const int Posters = 16;
    private const int MaxReplyTries = 10;
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan PauseRecheck = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DefaultGreylistDelay = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ReportPeriod = TimeSpan.FromSeconds(1);
    private static readonly long RelayStateTtlMs = 1_000;

    private readonly TimeProvider _time = clock.Time;
    private readonly Channel<Offer> _offers = Channel.CreateUnbounded<Offer>();
    private readonly PriorityQueue<object, DateTimeOffset> _held = new();
    private readonly Lock _heldLock = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ConcurrentDictionary<(string DeliveryId, string Domain), DomainLane> _lanes = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _touched = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (RelayState State, long ReadAtMs)> _relayStates = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<SimulatorScenario, Dictionary<string, ScenarioDomain>> _rules = new();
    private readonly string _relayId = $"simulator-{Environment.MachineName}-{Guid.NewGuid():N}";
    private int _signalled;

    /// <summary>Takes one attempt of one message of a scenario run; returns at once.</summary>
    public void Accept(OutboundMessage message) => _offers.Writer.TryWrite(new Offer(message, Greylisted: false, Reserved: false, Repeat: false));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>(Posters + 2);
        for (var i = 0; i < Posters; i++)
        {
            running.Add(Task.Run(() => PostOffersAsync(stoppingToken), stoppingToken));
        }

        running.Add(Task.Run(() => ReleaseHeldAsync(stoppingToken), stoppingToken));
        running.Add(Task.Run(() => ReportDomainsAsync(stoppingToken), stoppingToken));
        try
        {
            await Task.WhenAll(running);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: waiting messages stay ToDeliver in their logs.
        }
    }

    private async Task PostOffersAsync(CancellationToken stopping)
    {
        var reader = _offers.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping))
            {
                while (reader.TryRead(out var offer))
                {
                    try
                    {
                        await OfferAsync(offer, stopping);
                    }
                    catch (Exception ex) when (!stopping.IsCancellationRequested)
                    {
                        // A fault of ours, not the domain's answer: the message tries again shortly, loudly.
                        LogOfferFailed(ex, offer.Message.DeliveryId);
                        Hold(offer with { Reserved = false, Repeat = true }, _time.GetUtcNow() + PauseRecheck);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task OfferAsync(Offer offer, CancellationToken stopping)
    {
        var m = offer.Message;
        var now = _time.GetUtcNow();
        if (m.ValidUntil is { } validUntil && now >= validUntil)
        {
            // R12.3, R7.3: the validity period ended before the domain took it: never relayed, it stays ToDeliver.
            return;
        }

        if (offer.Repeat)
        {
            switch (await RelayStateOfAsync(m))
            {
                case RelayState.Stopped:
                    // R2 stop: nothing more is relayed.
                    return;
                case RelayState.Paused:
                    Hold(offer with { Reserved = false }, now + PauseRecheck);
                    return;
            }
        }

        var domain = MessageIdentity.DomainOf(m.Address);
        var rule = RuleOf(m.Mta.Scenario!, domain);
        var lane = _lanes.GetOrAdd((m.DeliveryId, domain), key => new DomainLane(rule?.AcceptPerMinute));
        if (!offer.Greylisted && m.Attempt == 1 && rule?.Greylist is { Rate: > 0 } greylist
            && SimulatedOutcomes.Uniform(m.Mta.Seed, m.ProfileId, GreylistSalt) < greylist.Rate)
        {
            // R12.3: 421 4.7.1 greylisted, try again later.
            lane.Deferred();
            Touch(m.DeliveryId, domain);
            Hold(offer with { Greylisted = true, Repeat = true }, now + (greylist.RetryAfter ?? DefaultGreylistDelay));
            return;
        }

        if (!offer.Reserved)
        {
            var admission = lane.Admit(offer, now);
            if (lane.Cap is not null)
            {
                Touch(m.DeliveryId, domain);
            }

            if (admission is { } tickAt)
            {
                // R12.3: 421 above the cap; the lane lets it through in a later minute.
                if (tickAt != default)
                {
                    Hold(new LaneTick(lane), tickAt);
                }

                return;
            }
        }

        await AcceptedAsync(m, rule, now, stopping);
    }

    /// <summary>The domain took the message: the relay (first attempt), then its outcome, opens and clicks when they fall due.</summary>
    private async Task AcceptedAsync(OutboundMessage m, ScenarioDomain? rule, DateTimeOffset at, CancellationToken stopping)
    {
        if (m.Attempt == 1 && !await RecordRelayAsync(m, at, stopping))
        {
            return;
        }

        var mta = m.Mta with
        {
            HardBounceRate = rule?.HardBounceRate ?? m.Mta.HardBounceRate,
            SoftBounceRate = rule?.SoftBounceRate ?? m.Mta.SoftBounceRate,
            OpenRate = rule?.Opens?.Rate ?? m.Mta.OpenRate,
            ClickRate = rule?.Clicks?.Rate ?? m.Mta.ClickRate,
        };
        var outcomeAt = at + Latency(rule?.Latency, m);
        var events = SimulatedOutcomes.For(m with { Mta = mta }, outcomeAt);
        var openAt = outcomeAt + CurveDelay(rule?.Opens, m, OpenSalt);
        var clickAt = Max(openAt, outcomeAt + CurveDelay(rule?.Clicks, m, ClickSalt));
        foreach (var group in events
            .Select(e => e.Type switch
            {
                FeedbackType.Open => e with { At = openAt },
                FeedbackType.Click => e with { At = clickAt },
                _ => e,
            })
            .GroupBy(e => e.At))
        {
            simulator.Schedule(m, [.. group], group.Key);
        }
    }

    /// <summary>R12.1: the accepted first attempt is the relay; false when its log cannot take it.</summary>
    private async Task<bool> RecordRelayAsync(OutboundMessage m, DateTimeOffset at, CancellationToken stopping)
    {
        var partition = grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(m.DeliveryId, m.Partition));
        for (var tries = 1; ; tries++)
        {
            try
            {
                await partition.RecordSmtpReplyAsync(m.RecipientIndex, new SmtpReply(m.Attempt, Bounce: null, Reason: null, at));
                return true;
            }
            catch (NotFoundException ex)
            {
                LogRelayLost(ex, m.DeliveryId);
                return false;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested && tries < MaxReplyTries)
            {
                // Recording the relay twice is harmless (same attempt); a log on a silo that just died answers again later.
                LogRelayRetried(ex, m.DeliveryId);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
            }
        }
    }

    /// <summary>The delay from acceptance to outcome: uniform from min to median for half the draws, median to max for the rest.</summary>
    private static TimeSpan Latency(ScenarioLatency? latency, OutboundMessage m)
    {
        if (latency is null)
        {
            return m.Mta.EffectiveFeedbackDelay;
        }

        var min = latency.Min ?? TimeSpan.Zero;
        var max = latency.Max ?? latency.Median ?? min;
        var median = latency.Median ?? min + (max - min) / 2;
        var u = SimulatedOutcomes.Uniform(m.Mta.Seed, m.ProfileId, LatencySalt - m.Attempt);
        return u < 0.5 ? min + (median - min) * (2 * u) : median + (max - median) * (2 * u - 1);
    }

    /// <summary>When after delivery an open or click happens: an hour drawn by the curve's weights, then a moment within it.</summary>
    private static TimeSpan CurveDelay(ScenarioEngagement? engagement, OutboundMessage m, int salt)
    {
        if (engagement?.Hourly is not { Count: > 0 } hourly)
        {
            return TimeSpan.Zero;
        }

        var pick = SimulatedOutcomes.Uniform(m.Mta.Seed, m.ProfileId, salt) * hourly.Sum();
        var hour = 0;
        for (; hour < hourly.Count - 1; hour++)
        {
            pick -= hourly[hour];
            if (pick < 0)
            {
                break;
            }
        }

        return TimeSpan.FromHours(hour + SimulatedOutcomes.Uniform(m.Mta.Seed, m.ProfileId, salt - 1));
    }

    private const int GreylistSalt = -101;
    private const int LatencySalt = -200;
    private const int OpenSalt = -301;
    private const int ClickSalt = -303;

    private ScenarioDomain? RuleOf(SimulatorScenario scenario, string domain) =>
        _rules.GetValue(scenario, s => (s.Domains ?? []).Where(d => d.Domain is not null)
            .GroupBy(d => d.Domain!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase))
            .GetValueOrDefault(domain);

    /// <summary>Whether the partition of a waiting message relays now (R2 pause and stop), read at most once a second.</summary>
    private async ValueTask<RelayState> RelayStateOfAsync(OutboundMessage m)
    {
        var key = GrainKeys.Partition(m.DeliveryId, m.Partition);
        var now = Environment.TickCount64;
        if (_relayStates.TryGetValue(key, out var known) && now - known.ReadAtMs < RelayStateTtlMs)
        {
            return known.State;
        }

        var state = await grains.GetGrain<IDeliveryPartitionGrain>(key).GetRelayStateAsync();
        _relayStates[key] = (state, now);
        if (_relayStates.Count > 10_000)
        {
            foreach (var (k, v) in _relayStates)
            {
                if (now - v.ReadAtMs > 60_000)
                {
                    _relayStates.TryRemove(k, out _);
                }
            }
        }

        return state;
    }

    private void Hold(object item, DateTimeOffset dueAt)
    {
        lock (_heldLock)
        {
            _held.Enqueue(item, dueAt);
        }

        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Hands back what falls due: greylisted and paused messages, and each capped lane's next minute.</summary>
    private async Task ReleaseHeldAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var due = new List<object>();
            TimeSpan wait;
            var now = _time.GetUtcNow();
            lock (_heldLock)
            {
                while (_held.TryPeek(out _, out var at) && at <= now)
                {
                    due.Add(_held.Dequeue());
                }

                // Waits in real time for at most a second, so a clock that jumps (a test's) is noticed soon.
                wait = _held.TryPeek(out _, out var next)
                    ? TimeSpan.FromTicks(Math.Clamp((next - now).Ticks, 0, TimeSpan.TicksPerSecond))
                    : TimeSpan.FromSeconds(1);
            }

            foreach (var item in due)
            {
                switch (item)
                {
                    case Offer offer:
                        _offers.Writer.TryWrite(offer);
                        break;
                    case LaneTick tick:
                        var (released, nextTick) = tick.Lane.NextMinute(now);
                        foreach (var offer in released)
                        {
                            _offers.Writer.TryWrite(offer with { Reserved = true, Repeat = true });
                        }

                        if (released.Count > 0)
                        {
                            Touch(released[0].Message.DeliveryId, MessageIdentity.DomainOf(released[0].Message.Address));
                        }

                        if (nextTick is { } at)
                        {
                            Hold(tick, at);
                        }

                        break;
                }
            }

            if (due.Count == 0)
            {
                try
                {
                    await _wake.WaitAsync(wait, stopping);
                    Volatile.Write(ref _signalled, 0);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Touch(string deliveryId, string domain) =>
        _touched.GetOrAdd(deliveryId, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal))[domain] = true;

    /// <summary>Once a second, each delivery whose domains moved gets their absolute figures (the domain view: deferrals, cap).</summary>
    private async Task ReportDomainsAsync(CancellationToken stopping)
    {
        using var tick = new PeriodicTimer(ReportPeriod);
        try
        {
            while (await tick.WaitForNextTickAsync(stopping))
            {
                foreach (var deliveryId in _touched.Keys)
                {
                    if (!_touched.TryRemove(deliveryId, out var domains))
                    {
                        continue;
                    }

                    var now = _time.GetUtcNow();
                    var figures = domains.Keys
                        .Select(d => (Domain: d, Lane: _lanes.GetValueOrDefault((deliveryId, d))))
                        .Where(x => x.Lane is not null)
                        .ToDictionary(x => x.Domain, x => new DomainRelayFigures(x.Lane!.Deferrals, x.Lane.Cap, now));
                    try
                    {
                        await grains.GetGrain<IDeliveryDomainsGrain>(deliveryId).ReportAsync(_relayId, figures);
                    }
                    catch (Exception ex) when (!stopping.IsCancellationRequested)
                    {
                        // Figures are absolute: the next report carries them again.
                        foreach (var d in domains.Keys)
                        {
                            Touch(deliveryId, d);
                        }

                        LogDomainsNotReported(ex, deliveryId);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed record Offer(OutboundMessage Message, bool Greylisted, bool Reserved, bool Repeat);

    private sealed record LaneTick(DomainLane Lane);

    /// <summary>
    /// One domain of one delivery: how many messages its current minute took, the messages waiting for
    /// a later minute (first in, first out) and the deferrals met so far. Every try refused counts:
    /// a message that waits three minutes met three deferrals.
    /// </summary>
    private sealed class DomainLane(int? cap)
    {
        private readonly Lock _lock = new();
        private readonly Queue<Offer> _waiting = new();
        private long _minute = long.MinValue;
        private int _taken;
        private bool _tickHeld;
        private long _deferrals;

        public int? Cap { get; } = cap;

        public long Deferrals => Interlocked.Read(ref _deferrals);

        public void Deferred() => Interlocked.Increment(ref _deferrals);

        /// <summary>
        /// Null when the message is taken now; otherwise it waits in the lane, and the answer is when the
        /// lane's next minute must be released (default when a release is already held).
        /// </summary>
        public DateTimeOffset? Admit(Offer offer, DateTimeOffset now)
        {
            if (Cap is not { } cap)
            {
                return null;
            }

            lock (_lock)
            {
                var minute = now.UtcTicks / Minute.Ticks;
                if (minute != _minute)
                {
                    _minute = minute;
                    _taken = 0;
                }

                if (_waiting.Count == 0 && _taken < cap)
                {
                    _taken++;
                    return null;
                }

                _waiting.Enqueue(offer);
                Interlocked.Increment(ref _deferrals);
                if (_tickHeld)
                {
                    return default(DateTimeOffset);
                }

                _tickHeld = true;
                return new DateTimeOffset((minute + 1) * Minute.Ticks, TimeSpan.Zero);
            }
        }

        /// <summary>A new minute: up to the cap's worth of waiting messages go; each one left waiting met one more deferral.</summary>
        public (List<Offer> Released, DateTimeOffset? NextTick) NextMinute(DateTimeOffset now)
        {
            lock (_lock)
            {
                var minute = now.UtcTicks / Minute.Ticks;
                if (minute != _minute)
                {
                    _minute = minute;
                    _taken = 0;
                }

                var released = new List<Offer>();
                while (_waiting.Count > 0 && _taken < Cap)
                {
                    released.Add(_waiting.Dequeue());
                    _taken++;
                }

                Interlocked.Add(ref _deferrals, _waiting.Count);
                _tickHeld = _waiting.Count > 0;
                return (released, _tickHeld ? new DateTimeOffset((minute + 1) * Minute.Ticks, TimeSpan.Zero) : null);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulator scenario: the relay of a message of delivery {DeliveryId} could not be recorded; it is dropped")]
    private partial void LogRelayLost(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator scenario: the relay of a message of delivery {DeliveryId} will be recorded again")]
    private partial void LogRelayRetried(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Simulator scenario: a message of delivery {DeliveryId} failed outside the simulation; it goes again shortly")]
    private partial void LogOfferFailed(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulator scenario: the domain figures of delivery {DeliveryId} could not be reported; they go with the next report")]
    private partial void LogDomainsNotReported(Exception ex, string deliveryId);
}
