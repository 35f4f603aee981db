using System.Text.RegularExpressions;

namespace DeliveryGrains.Client.Hosting;

/// <summary>Configuration problems named by their key and what the key must hold, never by a .NET type.</summary>
public static partial class ConfigurationMessages
{
    private static readonly Dictionary<string, string> Sections = new(StringComparer.Ordinal)
    {
        ["OrleansConnectionOptions"] = "Orleans",
        ["ClientIdentityOptions"] = "Client",
    };

    public static string Human(string message)
    {
        if (Conversion().Match(message) is { Success: true } conversion)
        {
            return $"{conversion.Groups["key"].Value} is '{conversion.Groups["value"].Value}', which is not {Kind(conversion.Groups["type"].Value)}.";
        }

        if (Annotation().Match(message) is { Success: true } annotation)
        {
            var section = Sections.TryGetValue(annotation.Groups["options"].Value, out var known) ? known : "configuration";
            var error = annotation.Groups["error"].Value.Replace("The field ", "", StringComparison.Ordinal);
            return $"{section}:{annotation.Groups["member"].Value}: {error}";
        }

        return message;
    }

    private static string Kind(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a duration such as 00:00:05",
        _ => "a valid value",
    };

    [GeneratedRegex("Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'")]
    private static partial Regex Conversion();

    [GeneratedRegex("DataAnnotation validation failed for '(?<options>[^']*)' members: '(?<member>[^']*)' with the error: '(?<error>.*)'")]
    private static partial Regex Annotation();
}
