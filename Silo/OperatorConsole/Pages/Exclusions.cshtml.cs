using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>Every exclusion of a delivery (R2.1), 100 a page, and the CSV of them all; for its creator or an administrator.</summary>
public sealed class ExclusionsModel(IGrainFactory grains) : PageModel
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true, Name = "id")]
    public string Id { get; set; } = "";

    [BindProperty(SupportsGet = true, Name = "p")]
    public int Current { get; set; } = 1;

    public DeliveryView? View { get; private set; }

    public ExclusionPage? Exclusions { get; private set; }

    public string? Refused { get; private set; }

    public int Pages => Exclusions is { } page ? Math.Max(1, (page.Total + PageSize - 1) / PageSize) : 1;

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "deliveries";
        ViewData["Title"] = "Exclusions";
        if (RouteIds.Problem(new RouteValueDictionary { ["id"] = Id }) is { } bad)
        {
            Refused = bad["id"][0];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var delivery = grains.GetGrain<IDeliveryGrain>(Id);
        try
        {
            View = await delivery.GetViewAsync();
            Current = Math.Max(1, Current);
            Exclusions = await delivery.PageExclusionsAsync((Current - 1) * PageSize, PageSize, User.ToCaller());
        }
        catch (NotFoundException ex)
        {
            Refused = ex.Message;
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        catch (MissingRoleException)
        {
            Refused = $"The exclusions of this delivery are readable by an administrator or by its creator, {View?.CreatedBy}.";
            Response.StatusCode = StatusCodes.Status403Forbidden;
        }

        return Page();
    }

    public string PageLink(int number) => $"/deliveries/{Uri.EscapeDataString(Id)}/exclusions{(number > 1 ? $"?p={number}" : "")}";
}
