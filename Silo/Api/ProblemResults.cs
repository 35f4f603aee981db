using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DeliveryGrains.Silo.Api;

/// <summary>Turns the domain's refusals into problem details (RFC 7807) with the status each one means.</summary>
public sealed class DomainExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, extensions) = exception switch
        {
            NotFoundException => (StatusCodes.Status404NotFound, "Not found", null),
            ConflictException => (StatusCodes.Status409Conflict, "Conflict", null),
            MissingRoleException m => (StatusCodes.Status403Forbidden, "Missing role", new Dictionary<string, object?> { ["missingRole"] = m.Role }),
            ValidationException v => (StatusCodes.Status400BadRequest, "Invalid request", new Dictionary<string, object?> { ["errors"] = v.Errors }),
            BadHttpRequestException b => (b.StatusCode, "Bad request", null),
            _ => (0, "", null),
        };
        if (status == 0)
        {
            return false;
        }

        context.Response.StatusCode = status;
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = Detail(exception) };
        foreach (var (key, value) in extensions ?? [])
        {
            details.Extensions[key] = value;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception });
    }

    private static string Detail(Exception exception) => exception is BadHttpRequestException { InnerException: { } inner }
        ? $"{exception.Message} {inner.Message}"
        : exception.Message;
}

public static class Problems
{
    /// <summary>400 listing every bad field.</summary>
    public static ValidationProblem Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: "Fix the fields listed in 'errors' and send the request again.");
}
