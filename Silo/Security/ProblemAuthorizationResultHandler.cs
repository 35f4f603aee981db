using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace DeliveryGrains.Silo.Security;

/// <summary>Answers 401 and 403 as problem details; a 403 names the role that is missing (R1.1).</summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Challenged)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status401Unauthorized,
                    Title = "Not authenticated",
                    Detail = $"Send a valid API key in the {ApiKeyAuthenticationHandler.Header} header, or as 'Authorization: Bearer <key>'.",
                },
            });
            return;
        }

        if (result.Forbidden)
        {
            var failed = result.AuthorizationFailure?.FailedRequirements.ToList() ?? [];
            var roles = failed.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles)
                .Concat(failed.OfType<MonitoringAccessRequirement>().SelectMany(_ => MonitoringAccessRequirement.Roles))
                .ToList();
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Missing role",
                    Detail = $"This call needs the role '{string.Join("' or '", roles)}', which user '{context.User.Identity?.Name}' does not hold.",
                    Extensions = { ["missingRole"] = roles.FirstOrDefault() },
                },
            });
            return;
        }

        await _default.HandleAsync(next, context, policy, result);
    }
}
