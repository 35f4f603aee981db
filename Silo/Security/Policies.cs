using Microsoft.AspNetCore.Authorization;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// Who a request is: the API key when it carries one, otherwise the interactive sign-in scheme a
/// host adds (the operator console's cookie) by setting <see cref="Interactive"/>; without one, the
/// key scheme answers (and challenges). Every policy authenticates through this scheme, so a new
/// way to sign in joins every endpoint at once.
/// </summary>
public sealed class CallerSchemeOptions
{
    public const string SchemeName = "Caller";

    /// <summary>The scheme that authenticates a request without a key (e.g. a sign-in cookie); null: keys only.</summary>
    public string? Interactive { get; set; }
}

public static class Policies
{
    /// <summary>A policy met by an authenticated user holding any of <paramref name="roles"/>.</summary>
    public static AuthorizationPolicy Role(params string[] roles) => new AuthorizationPolicyBuilder(CallerSchemeOptions.SchemeName)
        .RequireAuthenticatedUser()
        .RequireRole(roles)
        .Build();

    /// <summary><c>/dashboard</c> and <c>/metrics</c>: Administration or Monitoring, or anyone while the host listens on loopback only.</summary>
    public static AuthorizationPolicy Monitoring() => new AuthorizationPolicyBuilder(CallerSchemeOptions.SchemeName)
        .AddRequirements(new MonitoringAccessRequirement())
        .Build();
}
