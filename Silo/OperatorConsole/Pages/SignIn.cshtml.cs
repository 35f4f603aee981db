using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

public sealed class SignInModel : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public IActionResult OnGet() => User.Identity?.IsAuthenticated == true ? LocalRedirect(Destination) : Page();

    public async Task<IActionResult> OnPostAsync(string? apiKey)
    {
        if (await ConsoleSignIn.SignInAsync(HttpContext, apiKey?.Trim()))
        {
            return LocalRedirect(Destination);
        }

        Error = string.IsNullOrWhiteSpace(apiKey)
            ? "Enter your API key."
            : "No user of this silo has that key. Check it, or ask an administrator for yours.";
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Page();
    }

    /// <summary>Back where the user was sent from, on this site only.</summary>
    private string Destination => ReturnUrl is { Length: > 0 } url && Url.IsLocalUrl(url) && !url.StartsWith(ConsoleSignIn.SignInPath, StringComparison.OrdinalIgnoreCase) ? url : "/";
}
