using System.Collections.Immutable;
using System.Net;
using System.Reflection;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization.Invocation;

namespace DeliveryGrains.Tests.Hosting;

/// <summary>
/// The stop of the cluster's last silo: once it begins, no call to an engine grain leaves any more,
/// and the stop goes on only when the calls already on their way have finished, so no call can reach
/// a grain Orleans is deactivating (where it would find nowhere to be placed). Every call here is a
/// task the test completes, so the order of events is fixed by construction.
/// </summary>
public sealed class LastSiloDepartureTests
{
    private static readonly SiloAddress Self = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    private static readonly MethodInfo EngineMethod = typeof(IDeliveryGrain).GetMethod(nameof(IDeliveryGrain.ReportPartitionCountsAsync))!;
    private static readonly MethodInfo OrleansMethod = typeof(IRemindable).GetMethod(nameof(IRemindable.ReceiveReminder), [typeof(string), typeof(TickStatus)])!;

    private static LastSiloDeparture Departure(params (SiloAddress Silo, SiloStatus Status)[] members) =>
        new(new Membership(members), new LocalSilo(), NullLogger<LastSiloDeparture>.Instance);

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task The_last_silo_stopping_refuses_new_engine_calls_before_they_leave()
    {
        var departure = Departure((Self, SiloStatus.Active));
        await departure.BeginStopAsync(CancellationToken.None);

        Assert.True(departure.IsLeaving);
        var call = new Call(EngineMethod);
        var refused = await Assert.ThrowsAsync<SiloLeavingException>(() => departure.Invoke(call));
        Assert.Contains("ReportPartitionCountsAsync", refused.Message, StringComparison.Ordinal);
        Assert.False(call.Sent);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task The_stop_goes_on_only_once_the_engine_calls_on_their_way_have_finished()
    {
        var departure = Departure((Self, SiloStatus.Active));
        var first = new Call(EngineMethod);
        var second = new Call(EngineMethod);
        var firstCall = departure.Invoke(first);
        var secondCall = departure.Invoke(second);

        var stop = departure.BeginStopAsync(CancellationToken.None);
        Assert.False(stop.IsCompleted);
        first.Answer();
        await firstCall;
        Assert.False(stop.IsCompleted);
        second.Answer();
        await secondCall;
        await stop.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(first.Sent && second.Sent);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task A_failed_call_on_its_way_also_lets_the_stop_go_on()
    {
        var departure = Departure((Self, SiloStatus.Active));
        var call = new Call(EngineMethod);
        var invoked = departure.Invoke(call);
        var stop = departure.BeginStopAsync(CancellationToken.None);

        call.Fail(new TimeoutException("no answer"));
        await Assert.ThrowsAsync<TimeoutException>(() => invoked);
        await stop.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task With_another_silo_active_a_stopping_silo_keeps_calling_the_engine()
    {
        var departure = Departure((Self, SiloStatus.Active), (Other, SiloStatus.Active));
        await departure.BeginStopAsync(CancellationToken.None);

        Assert.False(departure.IsLeaving);
        var call = new Call(EngineMethod);
        var invoked = departure.Invoke(call);
        call.Answer();
        await invoked;
        Assert.True(call.Sent);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task A_silo_that_is_not_active_any_more_does_not_count_as_another_to_call()
    {
        var departure = Departure((Self, SiloStatus.Active), (Other, SiloStatus.Dead));
        await departure.BeginStopAsync(CancellationToken.None);

        Assert.True(departure.IsLeaving);
    }

    [Fact]
    [Trait("Rule", "R8.7")]
    public async Task Calls_to_Orleans_own_interfaces_pass_while_the_last_silo_stops()
    {
        var departure = Departure((Self, SiloStatus.Active));
        await departure.BeginStopAsync(CancellationToken.None);

        var call = new Call(OrleansMethod);
        var invoked = departure.Invoke(call);
        call.Answer();
        await invoked;
        Assert.True(call.Sent);
    }

    private sealed class Membership((SiloAddress Silo, SiloStatus Status)[] members) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot { get; } = new(
            members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())),
            new MembershipVersion(1));

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }

    private sealed class LocalSilo : ILocalSiloDetails
    {
        public string Name => "self";

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => Self;

        public SiloAddress GatewayAddress => Self;
    }

    /// <summary>A grain call whose answer the test gives.</summary>
    private sealed class Call(MethodInfo method) : IOutgoingGrainCallContext
    {
        private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Sent { get; private set; }

        public void Answer() => _answer.SetResult();

        public void Fail(Exception exception) => _answer.SetException(exception);

        public Task Invoke()
        {
            Sent = true;
            return _answer.Task;
        }

        public IGrainContext? SourceContext => null;

        public IInvokable Request => throw new NotSupportedException();

        public object Grain => throw new NotSupportedException();

        public GrainId? SourceId => null;

        public GrainId TargetId => default;

        public GrainInterfaceType InterfaceType => default;

        public string InterfaceName => method.DeclaringType!.Name;

        public string MethodName => method.Name;

        public MethodInfo InterfaceMethod => method;

        public object? Result { get; set; }

        public Response? Response { get; set; }
    }
}
