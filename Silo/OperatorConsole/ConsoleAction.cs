using System.Security.Claims;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>What an operator can do in the console; each needs the same role as the API call behind it (R1).</summary>
public enum ConsoleAction
{
    CreateDelivery,
    PrepareDelivery,
    ConfirmSend,
    PauseResumeStop,
    ComputeStats,
    LookUpAddress,
    ReadProfileHistory,
    ReleaseAddress,

    /// <summary>R14: change a Draft or Ready delivery's content, preview it and send proofs.</summary>
    EditContent,
}

public static class ConsolePermissions
{
    /// <summary>The roles of which a user must hold one to do <paramref name="action"/>: the API's policies, one table.</summary>
    public static IReadOnlyList<string> RolesFor(ConsoleAction action) => action switch
    {
        ConsoleAction.CreateDelivery or ConsoleAction.PrepareDelivery or ConsoleAction.ComputeStats or ConsoleAction.EditContent => [Roles.PrepareDeliveries],
        ConsoleAction.ConfirmSend or ConsoleAction.PauseResumeStop => [Roles.StartDeliveries],
        ConsoleAction.LookUpAddress or ConsoleAction.ReadProfileHistory => [Roles.Administration, Roles.PrepareDeliveries],
        ConsoleAction.ReleaseAddress => [Roles.Administration],
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "No role is defined for this console action."),
    };

    /// <summary>True when the user may do <paramref name="action"/>: pages ask it to show or hide a button.</summary>
    public static bool May(this ClaimsPrincipal user, ConsoleAction action) => RolesFor(action).Any(user.IsInRole);
}

/// <summary>
/// On a page model or a page handler method: the server refuses the request (403 naming the role,
/// nothing changed) when the user may not do <see cref="Action"/>, whatever the page showed.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true)]
public sealed class RequiresAttribute(ConsoleAction action) : Attribute
{
    public ConsoleAction Action { get; } = action;
}
