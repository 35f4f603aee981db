using DeliveryGrains.Deliveries;
using DeliveryGrains.Profiles;
using DeliveryGrains.Silo.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>R10.1: every delivery a profile was a recipient of, as <c>GET /api/profiles/{id}/history</c> answers.</summary>
[Requires(ConsoleAction.ReadProfileHistory)]
public sealed class ProfileModel(IGrainFactory grains) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "id")]
    public string Id { get; set; } = "";

    public IReadOnlyList<ProfileDeliveryEntry> History { get; private set; } = [];

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "deliveries";
        ViewData["Title"] = $"Profile {Id}";
        if (RouteIds.Problem(new RouteValueDictionary { ["profileId"] = Id }) is { } bad)
        {
            Error = bad["profileId"][0];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        History = await grains.GetGrain<IProfileHistoryGrain>(Id).GetHistoryAsync();
        return Page();
    }
}
