using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Hosting;

/// <summary>
/// The graceful stop of the cluster's last active silo, made orderly. Orleans deactivates every grain
/// of a stopping silo at once; a call that reaches a deactivating grain is sent on to another silo, and
/// when there is none Orleans logs the failed placement (and a failed migration of the grain with
/// waiting calls) as errors, although nothing is lost: the stores hold what the next activation needs.
/// So, at the very start of the stop, when no other silo is active, the engine's grains stop calling
/// each other: calls already on their way finish first (the stop waits for them, within a bound), and
/// any later call to an engine grain is refused before it leaves (<see cref="SiloLeavingException"/>),
/// whether a timer, an MTA's feedback loop or a request makes it. Timers that call out check
/// <see cref="IsLeaving"/> and skip their round instead; what they would have reported waits in the
/// store for the next activation. Calls to Orleans' own grains and system targets pass untouched.
/// With another silo active nothing changes: the calls are placed there.
/// </summary>
public sealed partial class LastSiloDeparture(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    ILogger<LastSiloDeparture> logger) : ILifecycleParticipant<ISiloLifecycle>, IOutgoingGrainCallFilter
{
    /// <summary>How long the stop waits for the calls on their way; a call longer than this is refused its follow-ups.</summary>
    private static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(10);

    private static readonly System.Reflection.Assembly EngineInterfaces = typeof(Deliveries.IDeliveryGrain).Assembly;

    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leaving;
    private int _inFlight;

    /// <summary>True once the last active silo has begun to stop: engine grains are not called any more.</summary>
    public bool IsLeaving => Volatile.Read(ref _leaving) == 1;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LastSiloDeparture), ServiceLifecycleStage.Active, _ => Task.CompletedTask, BeginStopAsync);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType?.Assembly != EngineInterfaces)
        {
            await context.Invoke();
            return;
        }

        // Counted before the check, and the stop sets the flag before it reads the count (both full
        // fences): a call either sees the flag or is counted by the time the stop waits for the count.
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (IsLeaving)
            {
                throw new SiloLeavingException($"{context.InterfaceName}.{context.MethodName} was not sent: the cluster's last silo is stopping.");
            }

            await context.Invoke();
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && IsLeaving)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>The first step of the silo's stop: when no other silo is active, engine calls end here.</summary>
    internal async Task BeginStopAsync(CancellationToken cancellationToken)
    {
        var self = localSilo.SiloAddress;
        if (membership.CurrentSnapshot.Members.Any(m => !m.Key.Equals(self) && m.Value.Status == SiloStatus.Active))
        {
            return;
        }

        Interlocked.Exchange(ref _leaving, 1);
        var inFlight = Volatile.Read(ref _inFlight);
        LogLeaving(inFlight);
        if (inFlight == 0)
        {
            return;
        }

        try
        {
            await _drained.Task.WaitAsync(DrainBound, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            LogNotDrained(Volatile.Read(ref _inFlight), DrainBound);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The cluster's last silo is stopping: engine grains are called no more ({InFlight} calls on their way finish first)")]
    private partial void LogLeaving(int inFlight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{InFlight} engine calls were still on their way after {Bound}; the stop goes on")]
    private partial void LogNotDrained(int inFlight, TimeSpan bound);
}
