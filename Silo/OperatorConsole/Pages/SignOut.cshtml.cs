using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>Ends the session: a POST with the form's antiforgery token, so no other site can sign a user out.</summary>
public sealed class SignOutModel : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await ConsoleSignIn.SignOutAsync(HttpContext);
        return Redirect(ConsoleSignIn.SignInPath);
    }
}
