using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>
/// A delivery's sending logs (R4), 50 a page, filtered by status, failure type and reason and
/// searched by profile id or address: the query of <c>GET /api/deliveries/{id}/logs</c>, checked the same way.
/// </summary>
public sealed class LogsModel(IGrainFactory grains) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true, Name = "id")]
    public string Id { get; set; } = "";

    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "failureType")]
    public string? FailureType { get; set; }

    [BindProperty(SupportsGet = true, Name = "failureReason")]
    public string? FailureReason { get; set; }

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "after")]
    public string? After { get; set; }

    public DeliveryView? View { get; private set; }

    public IReadOnlyList<SendingLog> Logs { get; private set; } = [];

    public string? Next { get; private set; }

    public IReadOnlyDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    public string? Refused { get; private set; }

    public bool Filtered => !string.IsNullOrEmpty(Status) || !string.IsNullOrEmpty(FailureType) || !string.IsNullOrEmpty(FailureReason) || !string.IsNullOrWhiteSpace(Search);

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "deliveries";
        ViewData["Title"] = "Sending logs";
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
        }
        catch (NotFoundException ex)
        {
            Refused = ex.Message;
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        ViewData["Title"] = $"Sending logs · {View.Name}";
        var query = DeliveryEndpoints.ParseLogQuery(Status, FailureType, FailureReason, Search, After, null, out var errors);
        if (errors.Count > 0)
        {
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            var page = await delivery.ListLogsAsync(query with { Limit = PageSize }, User.ToCaller());
            Logs = page.Items;
            Next = page.Next;
        }
        catch (MissingRoleException)
        {
            Refused = $"The sending logs of this delivery are readable by an administrator or by its creator, {View.CreatedBy}.";
            Response.StatusCode = StatusCodes.Status403Forbidden;
        }
        catch (ValidationException ex)
        {
            Errors = ex.Errors.ToDictionary();
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return Page();
    }

    /// <summary>This list's address with <paramref name="after"/> as its cursor, the filters kept.</summary>
    public string PageLink(string? after) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString($"/deliveries/{Uri.EscapeDataString(Id)}/logs", new Dictionary<string, string?>
        {
            ["status"] = Status,
            ["failureType"] = FailureType,
            ["failureReason"] = FailureReason,
            ["q"] = Search,
            ["after"] = after,
        }.Where(p => !string.IsNullOrEmpty(p.Value)));
}
