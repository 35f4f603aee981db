using Microsoft.AspNetCore.Authorization;

namespace DeliveryGrains.Silo.Security;

public static class Policies
{
    /// <summary>A policy met by an authenticated user holding any of <paramref name="roles"/>.</summary>
    public static AuthorizationPolicy Role(params string[] roles) => new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName)
        .RequireAuthenticatedUser()
        .RequireRole(roles)
        .Build();
}
