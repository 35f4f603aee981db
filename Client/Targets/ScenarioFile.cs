using System.Text.Json;
using System.Text.Json.Serialization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Targets;

/// <summary>
/// Reads a simulator scenario (R12.5) from a JSON file, the same object the API takes as
/// <c>mta.scenario</c>. Its fields' bounds are checked with the rest of the definition
/// (<see cref="ScenarioRules"/>); here only what stops it being read at all: a missing file, text
/// that is not JSON, a field of the wrong kind or one a scenario does not have.
/// </summary>
public static class ScenarioFile
{
    /// <summary>The bytes a scenario file may have (1,000 domains with week-long curves fit well within).</summary>
    public const long MaxBytes = 4 * 1024 * 1024;

    public sealed record Result(SimulatorScenario? Scenario, string? Error);

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static Result Read(string path)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return new(null, $"'{path}' does not exist; give a scenario file such as scenarios/consumer-mix.json.");
            }

            if (info.Length > MaxBytes)
            {
                return new(null, $"'{path}' has {info.Length:N0} bytes; a scenario file has at most {MaxBytes:N0}.");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new(null, $"'{path}' cannot be read: {ex.Message}");
        }

        try
        {
            return JsonSerializer.Deserialize<SimulatorScenario>(text, Options) is { } scenario
                ? new(scenario, null)
                : new(null, $"'{path}' holds null; a scenario is an object {{ \"domains\": [ … ] }}.");
        }
        catch (JsonException ex)
        {
            var at = ex.Path is { Length: > 1 } p ? $" at '{p.TrimStart('$').TrimStart('.')}'" : "";
            var line = ex.LineNumber is { } n ? $" (line {n + 1})" : "";
            var (what, hint) = ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? ("a field a scenario does not have", "")
                : ex.Message.Contains("could not be converted", StringComparison.Ordinal)
                    ? ("a value of the wrong kind", ": rates and shares are numbers, durations \"hh:mm:ss\" text, hourly curves arrays of numbers")
                    : ("text that is not valid JSON", "");
            return new(null, $"'{path}' has {what}{at}{line}{hint}; see scenarios/README.md for the format.");
        }
    }
}
