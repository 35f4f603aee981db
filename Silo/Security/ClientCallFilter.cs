using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Measuring;
using DeliveryGrains.Profiles;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// Calls that come through the gateway from an Orleans client (the command-line Client, a tool)
/// meet the same users and keys as HTTP callers (R1.2): the call carries the user's API key in its
/// request context (<see cref="CallerKey.RequestContextKey"/>), the key must name a configured user,
/// and every <see cref="Caller"/> argument is replaced by that user with the roles configured for
/// them, so a client never asserts its own name or roles. Only the calls a client needs are open to
/// it, each with the roles the HTTP API asks for the same thing; the engine's internal calls
/// (partitions, logs, reports) are refused. Calls made inside the cluster (grain to grain, the
/// silo's own HTTP API) are not clients' and pass as they are. The key is taken out of the request
/// context once checked, so it travels no further.
/// </summary>
public sealed partial class ClientCallFilter(ApiKeyDirectory keys, ILogger<ClientCallFilter> logger) : IIncomingGrainCallFilter
{
    /// <summary>The client methods open to a client, by interface and method, with the roles they need (empty: any user).</summary>
    private static readonly Dictionary<(Type Interface, string Method), string[]> Open = new()
    {
        // The delivery grain checks the roles of its Caller argument itself (R1.1).
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.CreateAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ChangeAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.PrepareAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ConfirmSendAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.PauseAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ResumeAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.StopAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ComputeStatsAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ListLogsAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.GetLogAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ListExclusionsAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.GetViewAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.ListExecutionsAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.GetExecutionViewAsync))] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.GetTimelineAsync))] = [],
        [(typeof(IDeliveryGrain), "GetDomainsAsync")] = [],
        [(typeof(IDeliveryGrain), nameof(IDeliveryGrain.GetBouncesAsync))] = [],
        [(typeof(IDeliveryCatalogGrain), nameof(IDeliveryCatalogGrain.ListAsync))] = [],
        [(typeof(IDeliveryListGrain), nameof(IDeliveryListGrain.ListAsync))] = [],
        [(typeof(IProfileHistoryGrain), nameof(IProfileHistoryGrain.GetHistoryAsync))] = [Roles.Administration, Roles.PrepareDeliveries],
        [(typeof(IAddressBookGrain), nameof(IAddressBookGrain.GetAsync))] = [Roles.Administration, Roles.PrepareDeliveries],
        [(typeof(IAddressBookGrain), nameof(IAddressBookGrain.ReleaseAsync))] = [Roles.Administration],
        [(typeof(IRecipientLogGrain), nameof(IRecipientLogGrain.ApplyFeedbackAsync))] = [Roles.MtaFeedback],
        [(typeof(IRecipientLogGrain), nameof(IRecipientLogGrain.ApplyFeedbackBatchAsync))] = [Roles.MtaFeedback],

        // The load tool's `--floor`: it occupies the silo for as long as it runs, like reading its statistics.
        [(typeof(IActivationFloorGrain), nameof(IActivationFloorGrain.MeasureAsync))] = [Roles.Administration, Roles.Monitoring],
    };

    /// <summary>Orleans' own management calls (silo statistics for the load tool) need a monitoring role.</summary>
    private static readonly string[] Monitoring = [Roles.Administration, Roles.Monitoring];

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!FromClient(context.SourceId) || IsSystemTarget(context.TargetId))
        {
            await context.Invoke();
            return;
        }

        var key = RequestContext.Get(CallerKey.RequestContextKey) as string;
        RequestContext.Remove(CallerKey.RequestContextKey);
        var user = keys.Find(key);
        var method = context.InterfaceMethod;
        if (user is null)
        {
            LogRefused(context.InterfaceName, context.MethodName, key is null ? "no key" : "unknown key");
            throw new NotAuthenticatedException(key is null
                ? "This client sent no API key: set Client:ApiKey (Client__ApiKey) to the key of a user configured on the silo."
                : "This client's API key names no user configured on the silo: check Client:ApiKey.");
        }

        var needs = method?.DeclaringType == typeof(IManagementGrain)
            ? Monitoring
            : method is null ? null : Open.GetValueOrDefault((method.DeclaringType!, method.Name));
        if (needs is null)
        {
            LogRefused(context.InterfaceName, context.MethodName, "not open to clients");
            throw new NotAuthenticatedException($"{context.InterfaceName}.{context.MethodName} is internal to the cluster and cannot be called by a client.");
        }

        if (needs.Length > 0 && !needs.Any(user.Holds))
        {
            throw new MissingRoleException(needs[0], ActionOf(method!));
        }

        var request = context.Request;
        for (var i = 0; i < request.GetArgumentCount(); i++)
        {
            if (request.GetArgument(i) is Caller)
            {
                request.SetArgument(i, user);
            }
        }

        await context.Invoke();
    }

    /// <summary>What a refused call was asking for, in the user's words rather than a method name.</summary>
    private static string ActionOf(System.Reflection.MethodInfo method) => method.Name switch
    {
        _ when method.DeclaringType == typeof(IManagementGrain) => "Reading the cluster's statistics",
        nameof(IProfileHistoryGrain.GetHistoryAsync) => "Reading a profile's history",
        nameof(IAddressBookGrain.GetAsync) => "Looking up an address",
        nameof(IAddressBookGrain.ReleaseAsync) => "Releasing an address",
        nameof(IActivationFloorGrain.MeasureAsync) => "Measuring the activation floor",
        nameof(IRecipientLogGrain.ApplyFeedbackAsync) or nameof(IRecipientLogGrain.ApplyFeedbackBatchAsync) => "Posting MTA feedback",
        _ => "This request",
    };

    /// <summary>
    /// A call from an Orleans client connected through a gateway. The silo's own in-process client (the
    /// HTTP API, the dashboard) has a client id too, named "hosted-…" by Orleans; those calls were
    /// authenticated by the HTTP host already.
    /// </summary>
    private static bool FromClient(GrainId? source) =>
        source is { } id && id.Type.ToString() == ClientGrainType && !id.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);

    /// <summary>Orleans' own services (cluster manifest, gateway list…), which a client calls to connect at all.</summary>
    private static bool IsSystemTarget(GrainId target) => target.Type.ToString().StartsWith("sys.svc.", StringComparison.Ordinal);

    /// <summary>The grain type Orleans gives every client's id.</summary>
    private const string ClientGrainType = "sys.client";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a client's call to {Interface}.{Method}: {Reason}")]
    private partial void LogRefused(string @interface, string method, string reason);
}
