using System.Globalization;
using System.Text;
using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using DeliveryGrains.Tracking;
using Fluid;
using static DeliveryGrains.Content.ContentMarks;

namespace DeliveryGrains.Content;

/// <summary>
/// How the relay tracks a message's HTML part (R13.1): the click URL of link (index, original URL), the
/// open pixel's URL and, for a link whose address is fixed in the content (the tracked form's links),
/// the click URL naming the link by its index only (<see cref="ContentLinkUrl"/>; without it, <see cref="ClickUrl"/>).
/// </summary>
public sealed record HtmlTracking(Func<int, string, string> ClickUrl, string PixelUrl, Func<int, string>? ContentLinkUrl = null);

/// <summary>
/// R13.1 without an HTML parse per message: the tracked form of an HTML template made once per
/// content record. Its Liquid outputs are put aside, the HTML is parsed and rewritten by the very
/// function the per-message road uses (<see cref="LinkRewriter"/>), with marks (Unicode
/// noncharacters) where each click URL and the pixel go; the result is a Liquid template again,
/// rendered per recipient, whose marks are then filled with that recipient's signed URLs. The
/// recipient's values are HTML-encoded by Liquid, so they cannot open a tag or a character
/// reference; where they could still change the parse (Liquid tags, Liquid in a link's address, in
/// an unquoted attribute, after <c>&lt;</c> or <c>&amp;</c>, in a place where the parser treats
/// white space apart, or markup written unencoded) there is no tracked form and each rendered
/// message is rewritten by <see cref="LinkRewriter.Rewrite(string, Func{int, string, string}, string)"/> as before.
/// The result parses to the same document as the per-message rewrite; it differs in bytes only in
/// how a value's characters are escaped (Liquid's <c>&amp;#x27;</c> where the serialiser writes <c>'</c>).
/// </summary>
internal sealed class TrackedHtml
{
    /// <summary>Values the parse must treat alike with the values themselves: empty, white space the parser sets apart, words with the characters Liquid leaves unencoded.</summary>
    private static readonly string[] Probes = ["", " ", "\n", "\n a=b/c;d#1 \t", "x"];

    private readonly string[] _urls;

    private TrackedHtml(IFluidTemplate template, string[] urls)
    {
        Template = template;
        _urls = urls;
    }

    /// <summary>
    /// The content's tracked links in their order (R13.1): the delivery's link table. The index a click
    /// URL of this form names is a place here, as <see cref="LinkRewriter.TrackedLinks"/> numbers them.
    /// </summary>
    public IReadOnlyList<string> Links => _urls;

    /// <summary>The tracked template, rendered per recipient with the HTML encoder, then given to <see cref="Fill"/>.</summary>
    public IFluidTemplate Template { get; }

    /// <summary>The tracked form of <paramref name="liquidHtml"/> (already in Liquid form), or null when each rendered message must be rewritten.</summary>
    public static TrackedHtml? Derive(string liquidHtml)
    {
        if (DerivedText.HasMark(liquidHtml) || DerivedText.Segments(liquidHtml) is not { } segments)
        {
            return null;
        }

        var placeheld = new StringBuilder(liquidHtml.Length);
        var places = new int[segments.Count];
        var last = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            var (start, length, tag) = segments[i];
            var markup = liquidHtml.AsSpan(start, length);

            // A tag shapes the document (a loop repeats links, a branch drops them); trimming markers eat text the parser may have moved.
            if (tag || markup.StartsWith("{{-") || markup.EndsWith("-}}"))
            {
                return null;
            }

            placeheld.Append(liquidHtml, last, start - last);
            places[i] = placeheld.Length;
            placeheld.Append(Open).Append(i.ToString(CultureInfo.InvariantCulture)).Append(Close);
            last = start + length;
        }

        placeheld.Append(liquidHtml, last, liquidHtml.Length - last);
        var source = placeheld.ToString();
        if (places.Any(p => !AfterSafeText(source, p)))
        {
            return null;
        }

        var isDocument = LinkRewriter.IsDocument(source);
        var document = LinkRewriter.Parse(source);
        if (!EveryOutputInPlace(document, source, places))
        {
            return null;
        }

        var urls = new List<string>();
        var rewritten = LinkRewriter.Rewrite(document, isDocument, (i, url) =>
        {
            urls.Add(url);
            return $"{Link}{i.ToString(CultureInfo.InvariantCulture)}{Close}";
        }, Pixel.ToString());

        // The parser must lay the document out the same whatever the values: checked with values it treats apart.
        foreach (var probe in Probes)
        {
            var perMessage = LinkRewriter.Rewrite(Substitute(source, _ => probe), MarkUrl, Pixel.ToString());
            if (Normalised(perMessage) != Normalised(Substitute(rewritten, _ => probe)))
            {
                return null;
            }
        }

        var liquid = Substitute(rewritten, i => liquidHtml.Substring(segments[i].Start, segments[i].Length), literalBraces: true);
        return TemplateSyntax.Parser.TryParse(liquid, out var template, out _) ? new TrackedHtml(template, [.. urls]) : null;
    }

    /// <summary>The rendered template with its marks replaced by the recipient's URLs, escaped as the serialiser escapes an attribute's value.</summary>
    public string Fill(string rendered, HtmlTracking tracking)
    {
        var sb = new StringBuilder(rendered.Length + (_urls.Length * 160) + 160);
        var s = rendered.AsSpan();
        var run = 0;
        while (true)
        {
            var next = s[run..].IndexOfAnyInRange(Brace, Pixel);
            if (next < 0)
            {
                break;
            }

            var at = run + next;
            sb.Append(s[run..at]);
            switch (s[at])
            {
                case Brace:
                    sb.Append('{');
                    run = at + 1;
                    break;
                case Link:
                    var close = s[at..].IndexOf(Close) + at;
                    var index = int.Parse(s[(at + 1)..close], NumberStyles.None, CultureInfo.InvariantCulture);
                    AppendAttributeValue(sb, tracking.ContentLinkUrl is { } byIndex ? byIndex(index) : tracking.ClickUrl(index, _urls[index]));
                    run = close + 1;
                    break;
                case Pixel:
                    AppendAttributeValue(sb, tracking.PixelUrl);
                    run = at + 1;
                    break;
            }
        }

        sb.Append(s[run..]);
        return sb.ToString();
    }

    private static string MarkUrl(int index, string url) => $"{Link}{index.ToString(CultureInfo.InvariantCulture)}{Close}";

    /// <summary>As the HTML serialiser writes an attribute's value between double quotes.</summary>
    private static void AppendAttributeValue(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '&' => sb.Append("&amp;"),
                '"' => sb.Append("&quot;"),
                '<' => sb.Append("&lt;"),
                '>' => sb.Append("&gt;"),
                '\u00A0' => sb.Append("&nbsp;"),
                _ => sb.Append(c),
            };
        }
    }

    /// <summary>
    /// False when the text just before an output could join its value: a <c>&lt;</c> would make a
    /// tag of it, a <c>&amp;</c> with letters a character reference; an output in a tag must sit in
    /// a quoted value (a space of the value would end an unquoted one).
    /// </summary>
    private static bool AfterSafeText(string source, int place)
    {
        if (place == 0)
        {
            return true;
        }

        var i = place - 1;
        while (i >= 0 && (char.IsAsciiLetterOrDigit(source[i]) || source[i] == '#'))
        {
            i--;
        }

        if (i >= 0 && source[i] == '&')
        {
            return false;
        }

        return source[place - 1] != '<';
    }

    /// <summary>Every output once, whole, in text or in a quoted attribute value other than a link's address; none before a leading line break the parser drops.</summary>
    private static bool EveryOutputInPlace(IHtmlDocument document, string source, int[] places)
    {
        var seen = new int[places.Length];
        foreach (var node in document.Descendants())
        {
            switch (node)
            {
                case IText text:
                    if (!Count(text.Data, seen))
                    {
                        return false;
                    }

                    if (text.Data.StartsWith(Open) && text.PreviousSibling is null
                        && text.ParentElement?.LocalName is "pre" or "textarea" or "listing")
                    {
                        return false;
                    }

                    break;
                case IElement element:
                    foreach (var attribute in element.Attributes)
                    {
                        if (!attribute.Value.Contains(Open))
                        {
                            continue;
                        }

                        if (attribute.Name == "href" && element.LocalName is "a" or "area")
                        {
                            return false;
                        }

                        if (!Count(attribute.Value, seen, source, places))
                        {
                            return false;
                        }
                    }

                    break;
            }
        }

        return seen.All(n => n == 1);
    }

    private static bool Count(string data, int[] seen, string? source = null, int[]? places = null)
    {
        var i = 0;
        while ((i = data.IndexOf(Open, i)) >= 0)
        {
            var close = data.IndexOf(Close, i);
            if (close < 0 || !int.TryParse(data.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= seen.Length)
            {
                return false;
            }

            seen[index]++;
            if (source is not null && !Quoted(source, places![index]))
            {
                return false;
            }

            i = close + 1;
        }

        return true;
    }

    /// <summary>Whether the output at <paramref name="place"/> is inside a quoted attribute value: the nearest quote before it, with nothing between it and '=' but white space.</summary>
    private static bool Quoted(string source, int place)
    {
        var i = source.LastIndexOfAny(['"', '\'', '=', '<', '>'], place - 1);
        if (i < 0 || source[i] is not ('"' or '\''))
        {
            return false;
        }

        var quote = source[i];
        if (source.IndexOf(quote, i + 1, place - i - 1) >= 0)
        {
            return false;
        }

        i--;
        while (i >= 0 && char.IsWhiteSpace(source[i]))
        {
            i--;
        }

        return i >= 0 && source[i] == '=';
    }

    /// <summary><paramref name="s"/> with each output mark replaced; with <paramref name="literalBraces"/> every other '{' becomes a mark Liquid does not read.</summary>
    private static string Substitute(string s, Func<int, string> output, bool literalBraces = false)
    {
        var sb = new StringBuilder(s.Length + 64);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == Open)
            {
                var close = s.IndexOf(Close, i);
                sb.Append(output(int.Parse(s.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture)));
                i = close;
            }
            else
            {
                sb.Append(literalBraces && c == '{' ? Brace : c);
            }
        }

        return sb.ToString();
    }

    /// <summary>The document <paramref name="html"/> parses to, written out: two HTML texts that read alike are equal here.</summary>
    internal static string Normalised(string html) => LinkRewriter.Parse(html).ToHtml();
}
