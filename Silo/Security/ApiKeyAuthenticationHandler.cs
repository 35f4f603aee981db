using System.Security.Claims;
using System.Text.Encodings.Web;
using DeliveryGrains.Deliveries;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.Security;

/// <summary>R1.2: every call carries <c>X-Api-Key</c>; the key names a configured user and their roles.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptionsMonitor<SecurityOptions> security,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values) || string.IsNullOrEmpty(values.ToString()))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var key = values.ToString();
        var user = security.CurrentValue.Users.FirstOrDefault(u => FixedTimeEquals(u.ApiKey, key));
        if (user is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, user.Name) };
        claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}

public static class CallerExtensions
{
    /// <summary>The authenticated user as the grains know it.</summary>
    public static Caller ToCaller(this ClaimsPrincipal user) => new(
        user.Identity?.Name ?? throw new InvalidOperationException("The endpoint requires an authenticated user."),
        user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal));
}
