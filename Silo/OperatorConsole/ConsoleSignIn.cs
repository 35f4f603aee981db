using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>
/// The console's sign-in: an API key is exchanged once for an encrypted, HttpOnly, SameSite=Strict
/// cookie (Secure when the request is HTTPS). The cookie holds the user's name and the SHA-256 of
/// their key, never the key; each request looks the user up again by that hash, so roles are the
/// configured ones of that moment and a removed user or changed key ends the session.
/// </summary>
public static class ConsoleSignIn
{
    public const string SchemeName = "ConsoleCookie";
    public const string CookieName = "DeliveryGrains.Console";
    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";
    private const string KeyHashClaim = "deliverygrains:key-sha256";

    /// <summary>Signs in the user <paramref name="apiKey"/> names; false (nothing set) for an unknown key.</summary>
    public static async Task<bool> SignInAsync(HttpContext context, string? apiKey)
    {
        var directory = context.RequestServices.GetRequiredService<ApiKeyDirectory>();
        if (string.IsNullOrEmpty(apiKey) || directory.Find(apiKey) is not { } user)
        {
            return false;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));
        await context.SignInAsync(SchemeName, Principal(user, hash), new AuthenticationProperties { IsPersistent = false });
        return true;
    }

    public static Task SignOutAsync(HttpContext context) => context.SignOutAsync(SchemeName);

    public static void Configure(CookieAuthenticationOptions options, OperatorConsoleOptions console)
    {
        options.Cookie.Name = CookieName;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.Cookie.Path = "/";
        options.LoginPath = SignInPath;
        options.LogoutPath = SignOutPath;
        options.ExpireTimeSpan = console.SessionLifetime;
        options.SlidingExpiration = true;
        options.Events.OnValidatePrincipal = RefreshAsync;
        // Only console pages challenge through the cookie (see InteractiveSignInMetadata); anything
        // else that ends here (an API call without a key) is told 401, never redirected.
        options.Events.OnRedirectToLogin = context =>
        {
            if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<InteractiveSignInMetadata>() is null)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            }

            context.Response.Redirect(context.RedirectUri);
            return Task.CompletedTask;
        };
    }

    /// <summary>The user as the directory holds them now, or the session ends.</summary>
    private static Task RefreshAsync(CookieValidatePrincipalContext context)
    {
        var directory = context.HttpContext.RequestServices.GetRequiredService<ApiKeyDirectory>();
        var hex = context.Principal?.FindFirst(KeyHashClaim)?.Value;
        byte[]? hash = null;
        if (hex is { Length: SHA256.HashSizeInBytes * 2 } && hex.All(char.IsAsciiHexDigit))
        {
            hash = Convert.FromHexString(hex);
        }

        if (hash is null || directory.FindBySha256(hash) is not { } user)
        {
            context.RejectPrincipal();
            return context.HttpContext.SignOutAsync(SchemeName);
        }

        context.ReplacePrincipal(Principal(user, hash));
        return Task.CompletedTask;
    }

    private static ClaimsPrincipal Principal(Caller user, byte[] keyHash)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, user.Name),
            new(KeyHashClaim, Convert.ToHexStringLower(keyHash)),
        };
        claims.AddRange(user.Roles.Order(StringComparer.Ordinal).Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
    }
}
