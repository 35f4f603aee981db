using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;

namespace DeliveryGrains.Silo.Api;

/// <summary>Turns the domain's refusals into problem details (RFC 7807) with the status each one means.</summary>
public sealed partial class DomainExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail, extensions) = exception switch
        {
            NotFoundException => (StatusCodes.Status404NotFound, "Not found", exception.Message, null),
            ConflictException => (StatusCodes.Status409Conflict, "Conflict", exception.Message, null),
            NotAuthenticatedException => (StatusCodes.Status401Unauthorized, "Not authenticated", exception.Message, null),
            MissingRoleException m => (StatusCodes.Status403Forbidden, "Missing role", exception.Message, new Dictionary<string, object?> { ["missingRole"] = m.Role }),
            ValidationException v => (StatusCodes.Status400BadRequest, "Invalid request", Problems.FixFields, new Dictionary<string, object?> { ["errors"] = v.Errors }),
            BadHttpRequestException b => BindingProblem(context, b),
            SiloLeavingException => (StatusCodes.Status503ServiceUnavailable, "The silo is stopping", exception.Message + " Try again once a silo runs.", null),
            _ => (0, "", "", null),
        };
        if (status == 0)
        {
            return false;
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of the body is never read: the connection ends with the answer.
            context.Response.Headers.Connection = "close";
        }

        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail };
        foreach (var (key, value) in extensions ?? [])
        {
            details.Extensions[key] = value;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception });
    }

    /// <summary>
    /// A request the framework could not bind, told in the caller's terms: the query value or body
    /// field, what it must hold, and never the parameter's .NET type.
    /// </summary>
    private static (int, string, string, Dictionary<string, object?>?) BindingProblem(HttpContext context, BadHttpRequestException exception)
    {
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge
            || exception.InnerException is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            var limit = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return (StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"The body is larger than this silo takes ({(limit is { } bytes ? $"{bytes:N0} bytes, " : "")}configured as {ApiLimitsOptions.Section}:{nameof(ApiLimitsOptions.MaxRequestBodyBytes)}); send it in smaller requests.",
                new Dictionary<string, object?> { ["limit"] = $"{ApiLimitsOptions.Section}:{nameof(ApiLimitsOptions.MaxRequestBodyBytes)}", ["maxBytes"] = limit });
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (exception.InnerException is JsonException json)
        {
            if (json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
                && (context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint())?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is { } bodyType
                && JsonShape.Resolve(bodyType, json.Path) is { } place)
            {
                errors[place.Field.Length == 0 ? "body" : place.Field] = [$"Expected {JsonShape.Expectation(place.Type)}."];
            }
            else
            {
                errors["body"] = [JsonBody.Syntax(json)];
            }
        }
        else if (Parameter().Match(exception.Message) is { Success: true } match)
        {
            var name = match.Groups["name"].Value;
            var type = match.Groups["type"].Value;
            var message = match.Groups["kind"].Value switch
            {
                "Failed to bind" => $"'{match.Groups["value"].Value}' is not {Expectation(type)}; fix '{name}' and send the request again.",
                "Required" when match.Groups["source"].Value.Contains("body", StringComparison.OrdinalIgnoreCase) => "This call needs a JSON body.",
                "Required" => $"Give '{name}' ({Expectation(type)}).",
                _ => "This call needs a JSON body.",
            };
            errors[match.Groups["source"].Value.Contains("body", StringComparison.OrdinalIgnoreCase) || match.Groups["kind"].Value == "Implicit body" ? "body" : name] = [message];
        }
        else
        {
            return (exception.StatusCode, "Bad request", exception.Message, null);
        }

        var status = exception.StatusCode == StatusCodes.Status415UnsupportedMediaType ? exception.StatusCode : StatusCodes.Status400BadRequest;
        return (status, "Invalid request", Problems.FixFields, new Dictionary<string, object?> { ["errors"] = errors });
    }

    /// <summary>What a parameter of the named C# type must hold ("Nullable&lt;int&gt;" → "a whole number").</summary>
    private static string Expectation(string type)
    {
        var bare = NullableOf().Replace(type, "$1").TrimEnd('?');
        return bare switch
        {
            "int" or "long" or "short" or "Int32" or "Int64" or "Int16" or "uint" or "ulong" => "a whole number",
            "double" or "float" or "decimal" or "Double" or "Single" or "Decimal" => "a number",
            "bool" or "Boolean" => "true or false",
            "Guid" => "an id such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "DateTimeOffset" or "DateTime" => "an instant in ISO 8601 with its time zone, e.g. 2026-12-01T09:00:00Z",
            "TimeSpan" => "a duration as days.hours:minutes:seconds, e.g. 00:30:00",
            _ => "a valid value",
        };
    }

    [GeneratedRegex("^(?<kind>Failed to bind|Required|Implicit body)[^\"]*\"(?<type>[^\"]+) (?<name>[^\" ]+)\"(?: from \"(?<value>.*)\"| was not provided from (?<source>[^.]*))?")]
    private static partial Regex Parameter();

    [GeneratedRegex(@"^Nullable<(.+)>$")]
    private static partial Regex NullableOf();
}

public static class Problems
{
    public const string FixFields = "Fix the fields listed in 'errors' and send the request again.";

    /// <summary>400 listing every bad field.</summary>
    public static ValidationProblem Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: FixFields);
}

/// <summary>Problem details the framework writes by itself (an unknown path, a wrong method or media type) still say what to do.</summary>
public static class FrameworkProblems
{
    public static void Customize(ProblemDetailsContext context)
    {
        var details = context.ProblemDetails;
        if (details.Detail is not null || context.Exception is not null)
        {
            return;
        }

        var request = context.HttpContext.Request;
        details.Detail = details.Status switch
        {
            StatusCodes.Status404NotFound => $"There is no call at {request.Method} {request.Path}; the calls are listed in /openapi/v1.json.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not take {request.Method}; the calls are listed in /openapi/v1.json.",
            StatusCodes.Status415UnsupportedMediaType => $"Send the body as JSON with the header 'Content-Type: application/json'{(request.ContentType is { } type ? $", not '{type}'" : "")}.",
            _ => null,
        };
    }
}

/// <summary>
/// An instant must carry its time zone (<c>Z</c> or an offset): "2027-03-01T09:00:00" alone could
/// be any of 24 instants. Refused here, the body is told field by field by <see cref="JsonShape"/>.
/// </summary>
public sealed class ZonedInstantConverter : System.Text.Json.Serialization.JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (text is null || !JsonShape.HasTimeZone(text)
            || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var value))
        {
            throw new JsonException("An instant with its time zone is expected.");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
