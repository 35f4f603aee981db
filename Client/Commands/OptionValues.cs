using System.Globalization;
using System.Reflection;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

/// <summary>
/// Reads every typed option value of a command line before Spectre does, so that all the values
/// of the wrong kind are named at once, with their option and an example of a good one
/// (<c>--send-at: 'soon' is not a date and time…</c>), instead of Spectre's first
/// "Failed to convert 'soon' to Nullable`1.".
/// </summary>
public static class OptionValues
{
    /// <summary>The bounds of whole-number options, told when a value is too large for any whole number.</summary>
    private static readonly Dictionary<string, string> WholeNumberBounds = new(StringComparer.Ordinal)
    {
        ["--generate"] = "1 to 10,000,000 recipients",
        ["--recipients"] = "1 to 10,000,000 recipients",
        ["--deliveries"] = "1 to 100 deliveries",
        ["--max-retries"] = $"0 to {Deliveries.DeliveryRules.MaxRetriesLimit} retries",
        ["--count"] = $"1 to {Deliveries.DeliveryRules.MaxRuns} runs",
        ["--limit"] = "1 to 1000",
        ["--gateway-port"] = "1 to 65535",
    };

    /// <summary>Every value of the wrong kind on the command line of <paramref name="settingsType"/>, as messages naming their option.</summary>
    public static IReadOnlyList<string> Problems(Type settingsType, IReadOnlyList<string> args)
    {
        var options = Options(settingsType);
        var problems = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "--")
            {
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[..equals] : arg;
            if (!options.TryGetValue(name, out var type))
            {
                continue;
            }

            var target = Nullable.GetUnderlyingType(type) ?? type;
            if (target == typeof(bool))
            {
                continue;
            }

            string? value = equals > 0 ? arg[(equals + 1)..] : i + 1 < args.Count ? args[++i] : null;
            if (value is null)
            {
                continue; // Spectre says the value is missing.
            }

            if (target.IsArray)
            {
                target = target.GetElementType()!;
            }

            if (Problem(name, value, target) is { } problem)
            {
                problems.Add(problem);
            }
        }

        return problems;
    }

    /// <summary>What is wrong with <paramref name="value"/> for an option of <paramref name="type"/>, or null when it reads.</summary>
    public static string? Problem(string option, string value, Type type)
    {
        var culture = CultureInfo.InvariantCulture;
        if (type == typeof(int) || type == typeof(long))
        {
            if (type == typeof(int) ? int.TryParse(value, NumberStyles.Integer, culture, out _) : long.TryParse(value, NumberStyles.Integer, culture, out _))
            {
                return null;
            }

            var bounds = WholeNumberBounds.TryGetValue(option, out var b) ? b : "a smaller whole number";
            return decimal.TryParse(value, NumberStyles.Integer, culture, out _)
                ? $"{option}: {value} is out of range; use {bounds}."
                : $"{option}: '{value}' is not a whole number{(WholeNumberBounds.ContainsKey(option) ? $"; use {bounds}" : "")}.";
        }

        if (type == typeof(double))
        {
            return double.TryParse(value, NumberStyles.Float, culture, out var d) && double.IsFinite(d)
                ? null
                : $"{option}: '{value}' is not a number; rates are fractions from 0 to 1, e.g. 0.05.";
        }

        if (type == typeof(TimeSpan))
        {
            return TimeSpan.TryParse(value, culture, out _)
                ? null
                : $"{option}: '{value}' is not a duration; write [days.]hours:minutes:seconds, e.g. 00:00:30 (30 seconds), 01:00:00 (an hour), 3.12:00:00 (3½ days).";
        }

        if (type == typeof(DateTimeOffset))
        {
            return DateTimeOffset.TryParse(value, culture, DateTimeStyles.AllowWhiteSpaces, out _)
                ? null
                : $"{option}: '{value}' is not a date and time; write it like 2027-03-01T09:00:00Z (UTC), 2027-03-01T10:00:00+01:00 or '2027-03-01 10:00' (local time).";
        }

        if (type.IsEnum)
        {
            return !value.Any(char.IsAsciiDigit) && Enum.TryParse(type, value, ignoreCase: true, out var parsed) && Enum.IsDefined(type, parsed!)
                ? null
                : $"{option}: '{value}' is not one of {Rendering.Format.Choices(Enum.GetNames(type))}.";
        }

        return null;
    }

    /// <summary>Option names (long and short) of a settings type and the type of each.</summary>
    private static Dictionary<string, Type> Options(Type settingsType)
    {
        var options = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var property in settingsType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<CommandOptionAttribute>() is not { } option)
            {
                continue;
            }

            foreach (var name in option.LongNames)
            {
                options["--" + name] = property.PropertyType;
            }

            foreach (var name in option.ShortNames)
            {
                options["-" + name] = property.PropertyType;
            }
        }

        return options;
    }
}
