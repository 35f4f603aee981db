using DeliveryGrains.Addresses;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>R9: an address's quarantine record, and its release by an administrator (R9.6).</summary>
[Requires(ConsoleAction.LookUpAddress)]
public sealed class AddressesModel(IGrainFactory grains) : PageModel
{
    public const int MaxAddressLength = 320;

    [BindProperty(SupportsGet = true, Name = "address")]
    public string? Address { get; set; }

    [BindProperty(SupportsGet = true, Name = "released")]
    public bool Released { get; set; }

    public AddressRecord? Record { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Section"] = "addresses";
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
