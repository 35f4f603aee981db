using Spectre.Console;
using Spectre.Console.Rendering;

namespace DeliveryGrains.Client.Rendering;

/// <summary>
/// One line of text as a single segment: Spectre writes it as it is instead of wrapping it at the
/// console width (80 columns when output is redirected), so scripts and logs get one line per event.
/// </summary>
public sealed class UnwrappedLine(string text, Style? style = null) : Renderable
{
    protected override Measurement Measure(RenderOptions options, int maxWidth) => new(Math.Min(text.Length, maxWidth), text.Length);

    protected override IEnumerable<Segment> Render(RenderOptions options, int maxWidth) =>
        [new Segment(text, style ?? Style.Plain), Segment.LineBreak];
}

public static class UnwrappedLineExtensions
{
    public static void WriteUnwrappedLine(this IAnsiConsole console, string text, Style? style = null) =>
        console.Write(new UnwrappedLine(text, style));
}
