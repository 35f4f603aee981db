using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// Answers 401 and 403 as problem details; a 403 names the role that is missing (R1.1). An endpoint
/// marked <see cref="InteractiveSignInMetadata"/> (a console page) sends a caller who is not signed
/// in to the sign-in page instead of answering 401.
/// </summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Challenged && context.Request.Path.StartsWithSegments("/dashboard") && HttpMethods.IsGet(context.Request.Method)
            && context.RequestServices.GetService<InteractiveSignIn>() is { } signIn && OperatorConsole.ConsoleProblemWriter.WantsPage(context.Request))
        {
            // A person opening the dashboard signs in through the console; its cookie then carries them.
            context.Response.Redirect($"{signIn.Path}?ReturnUrl={Uri.EscapeDataString(context.Request.PathBase + context.Request.Path + context.Request.QueryString)}");
            return;
        }

        if (result.Challenged && context.GetEndpoint()?.Metadata.GetMetadata<InteractiveSignInMetadata>() is null)
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
            await WriteMissingRoleAsync(problems, context, roles);
            return;
        }

        await _default.HandleAsync(next, context, policy, result);
    }

    /// <summary>The 403 of R1.1: which role the call needs and that the signed-in user does not hold it.</summary>
    public static Task WriteMissingRoleAsync(IProblemDetailsService problems, HttpContext context, IReadOnlyList<string> roles)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = MissingRole(roles, context.User.Identity?.Name) }).AsTask();
    }

    private static ProblemDetails MissingRole(IReadOnlyList<string> roles, string? user) => new()
    {
        Status = StatusCodes.Status403Forbidden,
        Title = "Missing role",
        Detail = $"This call needs the role '{string.Join("' or '", roles)}', which user '{user}' does not hold.",
        Extensions = { ["missingRole"] = roles.FirstOrDefault() },
    };
}

/// <summary>
/// Marks endpoints a person opens in a browser (the operator console's pages): an unauthenticated
/// request is sent to the sign-in page rather than answered 401.
/// </summary>
public sealed class InteractiveSignInMetadata
{
    public static readonly InteractiveSignInMetadata Instance = new();
}

/// <summary>Present when the console is served: where a person signs in, for endpoints opened in a browser outside the console (the dashboard).</summary>
public sealed record InteractiveSignIn(string Path);
