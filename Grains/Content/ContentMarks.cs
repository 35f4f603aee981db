namespace DeliveryGrains.Content;

/// <summary>
/// The marks the content's once-per-record forms write into a template (Unicode noncharacters, which
/// no text is meant to hold): <see cref="DerivedText"/> for the text part, <see cref="TrackedHtml"/>
/// for the tracked HTML. One range, so a value holding any of them is known at once and that message
/// is made the per-message way.
/// </summary>
internal static class ContentMarks
{
    /// <summary>Around the number of a Liquid segment set aside.</summary>
    public const char Open = '\uFDD0';
    public const char Close = '\uFDD1';

    // The derived text part's layout.
    public const char Break1 = '\uFDD2';
    public const char Break2 = '\uFDD3';
    public const char Space = '\uFDD4';
    public const char PreOn = '\uFDD5';
    public const char PreOff = '\uFDD6';
    public const char LiteralOn = '\uFDD7';
    public const char LiteralOff = '\uFDD8';
    public const char TrimOn = '\uFDD9';
    public const char TrimOff = '\uFDDA';

    /// <summary>A literal '{' of the HTML: never read as the start of Liquid markup.</summary>
    public const char Brace = '\uFDDB';

    // The tracked HTML: where a click URL and the open pixel go.
    public const char Link = '\uFDDC';
    public const char Pixel = '\uFDDD';

    /// <summary>True when <paramref name="value"/> holds any mark: it cannot go through a template that uses them.</summary>
    public static bool In(string value) => value.AsSpan().IndexOfAnyInRange(Open, Pixel) >= 0;
}
