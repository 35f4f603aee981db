using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DeliveryGrains.Silo.Api;

/// <summary>A request body read tolerantly: the value when it binds, else every field whose shape is wrong.</summary>
public sealed record JsonBodyResult<T>(T? Value, FieldErrors Errors, IReadOnlyList<JsonShape.Overflow> Overflows)
{
    /// <summary>
    /// The shape problems, then the domain rules' problems for the other fields: a field too large
    /// for its kind is told with the rule's bounds ("1000000000000 is out of range: Generate 1 to
    /// 10,000,000 recipients."), and a field whose shape is wrong keeps only that message.
    /// </summary>
    public Dictionary<string, string[]> Merge(IReadOnlyDictionary<string, string[]> rules)
    {
        var merged = Errors.ToDictionary();
        foreach (var overflow in Overflows)
        {
            var bounds = rules.TryGetValue(overflow.Field, out var ruleMessages)
                ? string.Join(" ", ruleMessages)
                : $"use a whole number from {int.MinValue:N0} to {int.MaxValue:N0}.";
            merged[overflow.Field] = [$"{overflow.Value} is out of range: {bounds}"];
        }

        foreach (var (field, messages) in rules)
        {
            merged.TryAdd(field, messages);
        }

        return merged;
    }
}

/// <summary>
/// Reads a JSON body without stopping at the first mistake: a body that binds goes straight through;
/// one that does not is checked field by field (<see cref="JsonShape"/>), so the answer names every
/// bad field, what it must hold, and never a .NET type.
/// </summary>
public static partial class JsonBody
{
    public static async Task<JsonBodyResult<T>> ReadAsync<T>(HttpRequest request, JsonSerializerOptions options, CancellationToken cancellationToken)
        where T : class
    {
        var errors = new FieldErrors();
        if (!request.HasJsonContentType())
        {
            errors.Add("body", $"Send the body as JSON with the header 'Content-Type: application/json'{(request.ContentType is { } type ? $", not '{type}'" : "")}.");
            return new(null, errors, []);
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        try
        {
            var value = JsonSerializer.Deserialize<T>(bytes.Span, options);
            if (value is not null)
            {
                return new(value, errors, []);
            }
        }
        catch (JsonException)
        {
            // Told field by field below.
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            errors.Add("body", Syntax(ex));
            return new(null, errors, []);
        }

        using (document)
        {
            var overflows = new List<JsonShape.Overflow>();
            var repaired = JsonShape.Check(document.RootElement, typeof(T), "", errors, overflows);
            if (repaired is null)
            {
                if (errors.Count == 0)
                {
                    errors.Add("body", $"Send {JsonShape.Expectation(typeof(T))} with the fields of this call, not null.");
                }

                return new(null, errors, overflows);
            }

            try
            {
                return new(repaired.Deserialize<T>(options), errors, overflows);
            }
            catch (JsonException ex)
            {
                // Only a shape the checker does not know can land here: name the place at least.
                var place = JsonShape.Resolve(typeof(T), ex.Path);
                errors.Add(place?.Field is { Length: > 0 } field ? field : "body",
                    place is { } p ? $"Expected {JsonShape.Expectation(p.Type)}." : "The body does not have the fields of this call.");
                return new(null, errors, overflows);
            }
        }
    }

    /// <summary>"The body is not valid JSON: '}' is an invalid start of a value (line 1, character 11)."</summary>
    public static string Syntax(JsonException ex)
    {
        var reason = Position().Replace(ex.Message, "").Trim().TrimEnd('.');
        if (reason.Contains("does not contain any JSON tokens", StringComparison.Ordinal))
        {
            return "The body is empty; send a JSON object with the fields of this call.";
        }

        var where = ex.LineNumber is { } line && ex.BytePositionInLine is { } column
            ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, character {column + 1})")
            : "";
        if (reason.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return $"The value at '{(ex.Path ?? "$").TrimStart('$').TrimStart('.')}'{where} has the wrong kind for its field; fix it and send the request again.";
        }

        return $"The body is not valid JSON: {reason}{where}. Fix it there and send it again.";
    }

    [GeneratedRegex(@"\s*(Path:|LineNumber:|\|).*$", RegexOptions.Singleline)]
    private static partial Regex Position();
}
