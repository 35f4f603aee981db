using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>
/// A delivery's sending logs (R4), 50 a page, filtered by status, failure type and reason and
/// searched by profile id or address over the whole delivery, with how many match; the filters are
/// those of <c>GET /api/deliveries/{id}/logs</c>, checked the same way, and the CSV export takes them too.
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

    [BindProperty(SupportsGet = true, Name = "p")]
    public string? PageNumber { get; set; }

    /// <summary>The page shown, from 1.</summary>
    public long Current { get; private set; } = 1;

    /// <summary>How many logs match the filters, over the whole delivery.</summary>
    public long Total { get; private set; }

    public long Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public DeliveryView? View { get; private set; }

    public IReadOnlyList<SendingLog> Logs { get; private set; } = [];

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
        var query = DeliveryEndpoints.ParseLogQuery(Status, FailureType, FailureReason, Search, null, null, out var errors);
        if (!string.IsNullOrEmpty(PageNumber))
        {
            if (long.TryParse(PageNumber, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= int.MaxValue)
            {
                Current = number;
            }
            else
            {
                errors["p"] = [$"'{PageNumber}' is not a page number; pages count from 1."];
            }
        }

        if (errors.Count > 0)
        {
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            var page = await delivery.SearchLogsAsync(new LogSearch(query.Filter, (Current - 1) * PageSize, PageSize), User.ToCaller());
            Logs = page.Items;
            Total = page.Total;
            Current = page.Offset / PageSize + 1;
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

    /// <summary>Page <paramref name="number"/> of this list (the first when null), the filters kept.</summary>
    public string PageLink(long? number) => Link($"/deliveries/{Uri.EscapeDataString(Id)}/logs", number is > 1 ? number.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);

    /// <summary>The CSV of every log these filters keep.</summary>
    public string ExportLink => Link($"/api/deliveries/{Uri.EscapeDataString(Id)}/export/logs", null);

    private string Link(string path, string? page) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(path, new Dictionary<string, string?>
        {
            ["status"] = Status,
            ["failureType"] = FailureType,
            ["failureReason"] = FailureReason,
            ["q"] = Search,
            ["p"] = page,
        }.Where(p => !string.IsNullOrEmpty(p.Value)));
}
