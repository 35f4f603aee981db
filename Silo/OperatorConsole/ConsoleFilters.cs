using System.Reflection;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>
/// Enforces <see cref="RequiresAttribute"/> before a page handler runs: a user without the role gets
/// the API's 403 (problem details naming the role) and the handler never runs. Antiforgery is
/// checked before this (an authorization filter), so a stale form is a 400 whoever sends it.
/// </summary>
public sealed class RequiresRoleFilter(IProblemDetailsService problems) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var required = context.HandlerInstance.GetType().GetCustomAttributes<RequiresAttribute>()
            .Concat(context.HandlerMethod?.MethodInfo.GetCustomAttributes<RequiresAttribute>() ?? []);
        foreach (var requirement in required)
        {
            if (!context.HttpContext.User.May(requirement.Action))
            {
                await ProblemAuthorizationResultHandler.WriteMissingRoleAsync(problems, context.HttpContext, ConsolePermissions.RolesFor(requirement.Action));
                context.Result = new EmptyResult();
                return;
            }
        }

        await next();
    }
}

/// <summary>A form posted with a missing or stale antiforgery token: 400 as problem details that say what to do, nothing changed.</summary>
public sealed class AntiforgeryProblemFilter(IProblemDetailsService problems) : IAsyncAlwaysRunResultFilter
{
    public async Task OnResultExecutionAsync(ResultExecutingContext context, ResultExecutionDelegate next)
    {
        if (context.Result is not IAntiforgeryValidationFailedResult)
        {
            await next();
            return;
        }

        await WriteAsync(problems, context.HttpContext);
        context.Result = new EmptyResult();
        context.Cancel = true;
    }

    /// <summary>The 400 for a missing or stale token, also for a page that checks its token itself (an upload).</summary>
    public static Task WriteAsync(IProblemDetailsService problems, HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Form expired",
                Detail = "The form's antiforgery token is missing or no longer valid (the page is old, or you signed in again since). Reload the page and send the form again.",
            },
        }).AsTask();
    }
}
