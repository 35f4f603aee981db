using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DeliveryGrains.Silo.Api;

/// <summary>Problems of a request, keyed by the camelCase path of the field (<c>mta.kind</c>, <c>recipients[3].address</c>).</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public int Count => _errors.Count;

    public bool Has(string field) => _errors.ContainsKey(field);

    public void Add(string field, string message) =>
        (_errors.TryGetValue(field, out var list) ? list : _errors[field] = []).Add(message);

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}

/// <summary>
/// Checks a JSON value against the .NET type it binds to, the way a person reads it: every field
/// whose kind or format is wrong is named with what it should be (never a .NET type name), and a
/// repaired copy (bad fields left out, too-large whole numbers clamped) lets the domain rules check
/// the rest, so one answer lists every bad field.
/// </summary>
public static partial class JsonShape
{
    /// <summary>A whole number too large or too small for its field, clamped so the domain rules can name the field's bounds.</summary>
    public sealed record Overflow(string Field, string Value, bool Negative);

    /// <summary>The repaired value, or null when <paramref name="element"/> must be left out.</summary>
    public static JsonNode? Check(JsonElement element, Type type, string path, FieldErrors errors, List<Overflow> overflows)
    {
        var nullable = Nullable.GetUnderlyingType(type);
        var target = nullable ?? type;
        if (element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (target == typeof(string))
        {
            return element.ValueKind == JsonValueKind.String ? JsonValue.Create(element.GetString()) : Wrong(element, target, path, errors);
        }

        if (target == typeof(bool))
        {
            return element.ValueKind is JsonValueKind.True or JsonValueKind.False ? JsonValue.Create(element.GetBoolean()) : Wrong(element, target, path, errors);
        }

        if (target == typeof(int) || target == typeof(long))
        {
            return WholeNumber(element, target, path, errors, overflows);
        }

        if (target == typeof(double) || target == typeof(float) || target == typeof(decimal))
        {
            return Number(element) is { } number ? JsonValue.Create(number) : Wrong(element, target, path, errors);
        }

        if (target == typeof(TimeSpan))
        {
            return element.ValueKind == JsonValueKind.String && ParseDuration(element.GetString()!) is { } duration
                ? JsonValue.Create(duration.ToString("c", CultureInfo.InvariantCulture))
                : Wrong(element, target, path, errors);
        }

        if (target == typeof(DateTimeOffset))
        {
            return Instant(element, path, errors);
        }

        if (target.IsEnum)
        {
            return EnumValue(element, target, path, errors);
        }

        if (ElementType(target) is { } itemType)
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                return Wrong(element, target, path, errors);
            }

            var array = new JsonArray();
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                array.Add(Check(item, itemType, $"{path}[{index++}]", errors, overflows));
            }

            return array;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return Wrong(element, target, path, errors);
        }

        var properties = target.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var result = new JsonObject();
        foreach (var member in element.EnumerateObject())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, member.Name, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                continue;
            }

            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var value = Check(member.Value, property.PropertyType, Join(path, name), errors, overflows);
            if (value is not null)
            {
                result[name] = value;
            }
        }

        return result;
    }

    /// <summary>True when an ISO 8601 instant ends with <c>Z</c> or an offset.</summary>
    public static bool HasTimeZone(string text) => HasZone().IsMatch(text.Trim());

    /// <summary>What a field of <paramref name="type"/> must hold, in a person's words.</summary>
    public static string Expectation(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        return target switch
        {
            _ when target == typeof(string) => "text in quotes",
            _ when target == typeof(bool) => "true or false",
            _ when target == typeof(int) || target == typeof(long) => "a whole number",
            _ when target == typeof(double) || target == typeof(float) || target == typeof(decimal) => "a number",
            _ when target == typeof(TimeSpan) => "a duration as days.hours:minutes:seconds, e.g. \"3.12:00:00\" or \"00:00:30\"",
            _ when target == typeof(DateTimeOffset) => "an instant in ISO 8601 with its time zone, e.g. \"2026-12-01T09:00:00Z\"",
            { IsEnum: true } => "one of " + Names(target),
            _ when ElementType(target) is not null => "an array",
            _ => "an object",
        };
    }

    /// <summary>The type a JSON path (<c>$[3].at</c>, <c>$.mta.kind</c>) reaches inside <paramref name="root"/>, with its camelCase field path.</summary>
    public static (Type Type, string Field)? Resolve(Type root, string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath[0] != '$')
        {
            return null;
        }

        var type = root;
        var field = "";
        foreach (Match step in PathStep().Matches(jsonPath[1..]))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (step.Groups["index"].Success)
            {
                type = ElementType(type) ?? type;
                field += $"[{step.Groups["index"].Value}]";
                continue;
            }

            var name = step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value;
            var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                return (type, Join(field, name));
            }

            type = property.PropertyType;
            field = Join(field, JsonNamingPolicy.CamelCase.ConvertName(property.Name));
        }

        return (type, field);
    }

    /// <summary>"Email or Sms", "Day, Week or Month".</summary>
    public static string Names(Type enumType)
    {
        var names = Enum.GetNames(enumType);
        return names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
    }

    /// <summary>Days.hours:minutes:seconds (<c>3.12:00:00</c>, <c>00:00:00.500</c>) or ISO 8601 (<c>PT30M</c>).</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var trimmed = text.Trim();
        if (TimeSpan.TryParseExact(trimmed, "c", CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        if (trimmed.StartsWith('P') || trimmed.StartsWith("-P", StringComparison.Ordinal))
        {
            try
            {
                return System.Xml.XmlConvert.ToTimeSpan(trimmed);
            }
            catch (FormatException)
            {
                return null;
            }
            catch (OverflowException)
            {
                return null;
            }
        }

        return null;
    }

    private static JsonNode? WholeNumber(JsonElement element, Type target, string path, FieldErrors errors, List<Overflow> overflows)
    {
        if (Number(element) is not { } number)
        {
            return Wrong(element, target, path, errors);
        }

        if (number != Math.Floor(number) || double.IsInfinity(number))
        {
            errors.Add(path, $"{Raw(element)} is not a whole number; give {Expectation(target)}.");
            return null;
        }

        var (min, max) = target == typeof(int) ? ((double)int.MinValue, (double)int.MaxValue) : (long.MinValue, long.MaxValue);
        if (number < min || number > max)
        {
            overflows.Add(new Overflow(path, Raw(element), number < 0));
            return target == typeof(int) ? JsonValue.Create(number < 0 ? int.MinValue : int.MaxValue) : JsonValue.Create(number < 0 ? long.MinValue : long.MaxValue);
        }

        return target == typeof(int) ? JsonValue.Create((int)number) : JsonValue.Create((long)number);
    }

    /// <summary>A JSON number, or a number written as text (the web defaults read both).</summary>
    private static double? Number(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number when element.TryGetDouble(out var d) => d,
        JsonValueKind.String when double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => d,
        _ => null,
    };

    private static JsonNode? Instant(JsonElement element, string path, FieldErrors errors)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            return Wrong(element, typeof(DateTimeOffset), path, errors);
        }

        var text = element.GetString()!.Trim();
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            return Wrong(element, typeof(DateTimeOffset), path, errors);
        }

        if (!HasTimeZone(text))
        {
            errors.Add(path, $"\"{text}\" has no time zone; add one, e.g. \"{instant.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z\" for UTC or an offset such as \"+01:00\".");
            return null;
        }

        return JsonValue.Create(instant.ToString("o", CultureInfo.InvariantCulture));
    }

    private static JsonNode? EnumValue(JsonElement element, Type target, string path, FieldErrors errors)
    {
        var what = $"use {Names(target)}.";
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var text = element.GetString()!.Trim();
                var name = Enum.GetNames(target).FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
                if (name is not null)
                {
                    return JsonValue.Create(name);
                }

                errors.Add(path, $"\"{text}\" is not a valid {Leaf(path)}; {what}");
                return null;
            case JsonValueKind.Number when element.TryGetInt32(out var number) && Enum.IsDefined(target, number):
                return JsonValue.Create(Enum.GetName(target, number));
            case JsonValueKind.Number:
                errors.Add(path, $"{Raw(element)} is not a valid {Leaf(path)}; {what}");
                return null;
            default:
                return Wrong(element, target, path, errors);
        }
    }

    private static JsonNode? Wrong(JsonElement element, Type target, string path, FieldErrors errors)
    {
        var shown = element.ValueKind switch
        {
            JsonValueKind.String => $"\"{Shorten(element.GetString()!)}\"",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => Raw(element),
        };
        errors.Add(path.Length == 0 ? "body" : path, $"Expected {Expectation(target)}, not {shown}.");
        return null;
    }

    private static string Raw(JsonElement element) => Shorten(element.GetRawText());

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    private static string Leaf(string path)
    {
        var leaf = path[(path.LastIndexOf('.') + 1)..];
        var bracket = leaf.IndexOf('[');
        leaf = bracket < 0 ? leaf : leaf[..bracket];

        // "aggregationPeriod" → "aggregation period"
        return CamelWords().Replace(leaf, m => " " + char.ToLowerInvariant(m.Value[0])).Trim();
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && type.GetGenericArguments() is [var item] ? item : null;
    }

    [GeneratedRegex(@"(Z|[+-]\d\d:?\d\d)$", RegexOptions.IgnoreCase)]
    private static partial Regex HasZone();

    [GeneratedRegex(@"\[(?<index>\d+)\]|\.(?<name>[A-Za-z0-9_]+)|\['(?<quoted>[^']*)'\]")]
    private static partial Regex PathStep();

    [GeneratedRegex("[A-Z]")]
    private static partial Regex CamelWords();
}
