using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>One sending log (R4): its status, attempts and instants, linked to the profile's history (R10.1).</summary>
public sealed class LogModel(IGrainFactory grains) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "id")]
    public string Id { get; set; } = "";

    [BindProperty(SupportsGet = true, Name = "profileId")]
    public string ProfileId { get; set; } = "";

    public DeliveryView? View { get; private set; }

    public SendingLog? Log { get; private set; }

    public string? Refused { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "deliveries";
        ViewData["Title"] = $"Sending log · {ProfileId}";
        if (RouteIds.Problem(new RouteValueDictionary { ["id"] = Id, ["profileId"] = ProfileId }) is { } bad)
        {
            Refused = string.Join(" ", bad.Values.SelectMany(v => v));
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var delivery = grains.GetGrain<IDeliveryGrain>(Id);
        try
        {
            View = await delivery.GetViewAsync();
            Log = await delivery.GetLogAsync(ProfileId, User.ToCaller());
        }
        catch (NotFoundException ex)
        {
            Refused = ex.Message;
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        catch (MissingRoleException)
        {
            Refused = $"The sending logs of this delivery are readable by an administrator or by its creator, {View?.CreatedBy}.";
            Response.StatusCode = StatusCodes.Status403Forbidden;
        }

        return Page();
    }

    /// <summary>What the log records, in order: what happened to the message and when.</summary>
    public static IReadOnlyList<(string What, DateTimeOffset? At)> Events(SendingLog log, bool emailFeedbackService)
    {
        var events = new List<(string, DateTimeOffset?)>();
        if (log.RelayedAt is { } relayed)
        {
            events.Add(($"Relayed to the MTA (first attempt)", relayed));
        }
        else
        {
            events.Add(("Not relayed yet", null));
        }

        if (log.Attempts > 1)
        {
            events.Add(($"Relayed again after soft bounces: {log.Attempts} attempts in all", null));
        }

        if (log.LastEventAt is { } last && last != log.RelayedAt)
        {
            var outcome = log.Phase switch
            {
                LogPhase.Delivered => "Delivered",
                LogPhase.Failed => $"Failed for good: {log.FailureType} bounce, {log.FailureReason}",
                LogPhase.AwaitingRetry => $"Soft bounce ({log.FailureReason}); a retry is due",
                _ => emailFeedbackService ? "Awaiting the MTA's outcome" : "Sent",
            };
            events.Add(($"Last event: {outcome}", last));
        }

        if (log.Opened)
        {
            events.Add(("Opened by the recipient", null));
        }

        if (log.Clicked)
        {
            events.Add(("A link was clicked", null));
        }

        return events;
    }
}
