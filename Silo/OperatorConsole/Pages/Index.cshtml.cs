using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>
/// The deliveries page: the catalog behind <c>GET /api/deliveries</c>, newest first, 50 a page,
/// filtered by status, channel and a part of the name, each row with its Deployment figures; a
/// recurring template lists its runs or aggregated executions.
/// </summary>
public sealed class IndexModel(IGrainFactory grains) : PageModel
{
    public const int PageSize = DeliveryListQuery.DefaultLimit;

    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "channel")]
    public string? Channel { get; set; }

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "sort")]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true, Name = "after")]
    public string? After { get; set; }

    public IReadOnlyList<DeliveryView> Deliveries { get; private set; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<Execution>> Executions { get; private set; } = new Dictionary<string, IReadOnlyList<Execution>>();

    public string? Next { get; private set; }

    /// <summary>How many deliveries match the filters, over every page.</summary>
    public int Total { get; private set; }

    public IReadOnlyDictionary<string, DateTimeOffset> CreatedAt { get; private set; } = new Dictionary<string, DateTimeOffset>();

    public IReadOnlyDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    public bool Filtered => !string.IsNullOrEmpty(Status) || !string.IsNullOrEmpty(Channel) || !string.IsNullOrWhiteSpace(Search);

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "deliveries";
        var query = DeliveryListEndpoints.Parse(Status, Channel, Search, After, null, out var errors, Sort);
        if (errors.Count > 0)
        {
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var page = await grains.GetGrain<IDeliveryListGrain>(0).ListAsync(query with { Limit = PageSize });
        Deliveries = page.Items;
        Next = page.Next;
        Total = page.Total;
        CreatedAt = page.CreatedAt ?? new Dictionary<string, DateTimeOffset>();
        var templates = page.Items.Where(d => d.Recurrence is not null).ToList();
        var executions = await Task.WhenAll(templates.Select(t => grains.GetGrain<IDeliveryGrain>(t.Id).ListExecutionsAsync()));
        Executions = templates.Select((t, i) => (t.Id, executions[i])).ToDictionary(e => e.Id, e => e.Item2);
        return Page();
    }

    /// <summary>This list's address with <paramref name="after"/> as its cursor, the filters kept.</summary>
    public string PageLink(string? after)
    {
        var query = new Dictionary<string, string?>
        {
            ["status"] = Status,
            ["channel"] = Channel,
            ["q"] = Search,
            ["sort"] = Sort,
            ["after"] = after,
        };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/", query.Where(p => !string.IsNullOrEmpty(p.Value)));
    }
}
