using DeliveryGrains.Addresses;
using DeliveryGrains.Silo.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>
/// R9: the quarantined and denylisted addresses, searched and paged; an address's record; their release,
/// one or many at once, by an administrator (R9.6).
/// </summary>
[Requires(ConsoleAction.LookUpAddress)]
public sealed class AddressesModel(IGrainFactory grains) : PageModel
{
    public const int MaxAddressLength = 320;

    [BindProperty(SupportsGet = true, Name = "address")]
    public string? Address { get; set; }

    [BindProperty(SupportsGet = true, Name = "released")]
    public bool Released { get; set; }

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "after")]
    public string? After { get; set; }

    [BindProperty(SupportsGet = true, Name = "before")]
    public string? Before { get; set; }

    /// <summary>How many addresses the last bulk release released.</summary>
    [BindProperty(SupportsGet = true, Name = "releasedCount")]
    public int? ReleasedCount { get; set; }

    public AddressRecord? Record { get; private set; }

    public AddressListPage? List { get; private set; }

    public IReadOnlyDictionary<string, string[]> ListErrors { get; private set; } = new Dictionary<string, string[]>();

    /// <summary>What was ticked for a bulk release that was refused, ticked again.</summary>
    public IReadOnlySet<string> Selected { get; private set; } = new HashSet<string>();

    public bool Filtered => !string.IsNullOrWhiteSpace(Search) || !string.IsNullOrEmpty(Status);

    public string? Error { get; private set; }

    /// <summary>Why a bulk release was refused (nothing released).</summary>
    public string? BulkError { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "addresses";
        await ListAsync();
        if (string.IsNullOrWhiteSpace(Address))
        {
            return Page();
        }

        if (Normalized(Address) is not { } normalized)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        Record = await Shard(normalized).GetAsync(normalized);
        return Page();
    }

    [Requires(ConsoleAction.ReleaseAddress)]
    public async Task<IActionResult> OnPostReleaseAsync()
    {
        ViewData["Section"] = "addresses";
        if (string.IsNullOrWhiteSpace(Address) || Normalized(Address) is not { } normalized)
        {
            Error ??= "Enter the address to release.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        await Shard(normalized).ReleaseAsync(normalized);
        return RedirectToPage("/Addresses", new { address = normalized, released = true });
    }

    [Requires(ConsoleAction.ReleaseAddress)]
    public async Task<IActionResult> OnPostReleaseManyAsync([FromForm(Name = "selected")] string[]? selected)
    {
        ViewData["Section"] = "addresses";
        var normalized = AddressList.ParseRelease(selected ?? [], out var errors);
        if (errors.Count > 0)
        {
            Selected = new HashSet<string>(selected ?? [], StringComparer.Ordinal);
            BulkError = selected is null or { Length: 0 } ? "Tick the addresses to release first." : string.Join(" ", errors.Values.SelectMany(e => e));
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await ListAsync();
            return Page();
        }

        var released = await AddressList.ReleaseAsync(grains, normalized);
        return RedirectToPage("/Addresses", new { q = Search, status = Status, releasedCount = released });
    }

    /// <summary>The page of excluded addresses the filters keep; a bad filter is told beside its field.</summary>
    private async Task ListAsync()
    {
        var search = AddressList.Parse(Status, Search, After, Before, null, out var errors);
        if (errors.Count > 0)
        {
            ListErrors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        List = await AddressList.SearchAsync(grains, search);
    }

    /// <summary>This list with its filters and the given cursor.</summary>
    public string ListLink(string? after = null, string? before = null) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/addresses", new Dictionary<string, string?>
        {
            ["q"] = Search,
            ["status"] = Status,
            ["after"] = after,
            ["before"] = before,
        }.Where(p => !string.IsNullOrEmpty(p.Value)));

    /// <summary>The address as the address book keys it (R2.2), or null with <see cref="Error"/> saying why.</summary>
    private string? Normalized(string address)
    {
        var trimmed = address.Trim();
        if (trimmed.Length > MaxAddressLength)
        {
            Error = $"An address has at most {MaxAddressLength} characters.";
            return null;
        }

        var channel = AddressSyntax.ChannelOf(trimmed);
        var normalized = AddressSyntax.Normalize(trimmed, channel);
        if (!AddressSyntax.IsValid(normalized, channel))
        {
            Error = channel == Deliveries.Channel.Sms
                ? $"'{trimmed}' is not a phone number in E.164 form ('+' and 8 to 15 digits)."
                : $"'{trimmed}' is not an email address.";
            return null;
        }

        return normalized;
    }

    private IAddressBookGrain Shard(string normalized) => grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(normalized));
}
