using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace DeliveryGrains.Client.Rendering;

/// <summary>What scripts read: one JSON document (<c>--json</c>) or CSV (<c>--csv</c>), written as it is, never wrapped.</summary>
public static class Output
{
    /// <summary>The HTTP API's conventions: camelCase, enums as names, instants in ISO 8601, durations as <c>d.hh:mm:ss</c>.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>A console that writes nowhere: the steps of a command run as usual while only its JSON is shown.</summary>
    public static IAnsiConsole Quiet() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        Interactive = InteractionSupport.No,
        Out = new AnsiConsoleOutput(TextWriter.Null),
    });

    public static void WriteJson(this IAnsiConsole console, object value) => console.WriteText(JsonSerializer.Serialize(value, Json));

    public static void WriteCsv(this IAnsiConsole console, Listing listing) => console.WriteText(listing.ToCsv().TrimEnd('\n'));

    public static void WriteText(this IAnsiConsole console, string text)
    {
        foreach (var line in text.Split('\n'))
        {
            console.WriteUnwrappedLine(line.TrimEnd('\r'));
        }
    }
}
