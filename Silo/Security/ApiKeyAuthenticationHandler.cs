using System.Security.Claims;
using System.Text.Encodings.Web;
using DeliveryGrains.Deliveries;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// R1.2: a call carries the user's key as <c>X-Api-Key</c> or as <c>Authorization: Bearer &lt;key&gt;</c>
/// (what Prometheus and most tools send); the key names a configured user and their roles.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ApiKeyDirectory keys,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";
    private const string Bearer = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (KeyOf(Request) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (keys.Find(key) is not { } user)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, user.Name) };
        claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <summary>True when the request carries a key in either form, so the key scheme (not a sign-in) answers for it.</summary>
    public static bool HasKey(HttpRequest request) => KeyOf(request) is not null;

    private static string? KeyOf(HttpRequest request)
    {
        if (request.Headers.TryGetValue(Header, out var values) && values.ToString() is { Length: > 0 } key)
        {
            return key;
        }

        var authorization = request.Headers[HeaderNames.Authorization].ToString();
        return authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && authorization[Bearer.Length..].Trim() is { Length: > 0 } bearer
            ? bearer
            : null;
    }
}

public static class CallerExtensions
{
    /// <summary>The authenticated user as the grains know it.</summary>
    public static Caller ToCaller(this ClaimsPrincipal user) => new(
        user.Identity?.Name ?? throw new InvalidOperationException("The endpoint requires an authenticated user."),
        user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal));
}
