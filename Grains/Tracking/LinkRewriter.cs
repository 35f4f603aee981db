using System.Globalization;
using System.Text;
using AngleSharp;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace DeliveryGrains.Tracking;

/// <summary>
/// R13.1: the tracked form of a message's HTML part. Every <c>a</c> and <c>area</c> whose <c>href</c>
/// is an absolute http or https URL becomes a click URL, numbered in document order from 0; links
/// with another scheme (<c>mailto:</c>, <c>tel:</c>), anchors (<c>#top</c>), relative links and links
/// marked <c>data-no-track</c> are left as written and take no number. A 1×1 pixel goes at the end of
/// the body. A plain function of its input, so the relay and the mirror page make the same HTML.
/// </summary>
public static class LinkRewriter
{
    /// <summary>One parser per thread: the relay builds messages on many threads at once, and a parser's reuse across threads is not documented as safe.</summary>
    [ThreadStatic]
    private static HtmlParser? _parser;

    private static HtmlParser Parser => _parser ??= new HtmlParser();

    /// <summary>The tracked HTML; <paramref name="clickUrl"/> makes the click URL of link (index, original URL).</summary>
    public static string Rewrite(string html, Func<int, string, string> clickUrl, string pixelUrl) =>
        Rewrite(Parser.ParseDocument(html), IsDocument(html), clickUrl, pixelUrl);

    /// <summary>Parses with this thread's parser: the once-per-content form (<see cref="Content.TrackedHtml"/>) reads the HTML exactly as <see cref="Rewrite(string, Func{int, string, string}, string)"/> does.</summary>
    internal static IHtmlDocument Parse(string html) => Parser.ParseDocument(html);

    /// <summary>Rewrites a parsed <paramref name="document"/> and serialises it: the one place the tracked form is made, per message or per content.</summary>
    internal static string Rewrite(IHtmlDocument document, bool isDocument, Func<int, string, string> clickUrl, string pixelUrl)
    {
        var index = 0;
        foreach (var link in document.QuerySelectorAll("a[href], area[href]"))
        {
            var href = link.GetAttribute("href")!;
            if (link.HasAttribute("data-no-track") || !IsTracked(href))
            {
                continue;
            }

            link.SetAttribute("href", clickUrl(index++, href.Trim()));
        }

        var body = document.Body!;
        var pixel = document.CreateElement("img");
        pixel.SetAttribute("src", pixelUrl);
        pixel.SetAttribute("width", "1");
        pixel.SetAttribute("height", "1");
        pixel.SetAttribute("alt", "");
        pixel.SetAttribute("style", "display:block;border:0;width:1px;height:1px");
        body.AppendChild(pixel);

        // A fragment stays a fragment: wrapping it in html/head/body is not the sender's to decide.
        return isDocument ? document.ToHtml() : body.InnerHtml;
    }

    /// <summary>The original URLs of the links <see cref="Rewrite"/> tracks, in their order (their index is their place here).</summary>
    public static IReadOnlyList<string> TrackedLinks(string html) =>
        [.. Parser.ParseDocument(html).QuerySelectorAll("a[href], area[href]")
            .Where(l => !l.HasAttribute("data-no-track") && IsTracked(l.GetAttribute("href")!))
            .Select(l => l.GetAttribute("href")!.Trim())];

    internal static bool IsTracked(string href)
    {
        var h = href.AsSpan().Trim();
        return h.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || h.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
    }

    internal static bool IsDocument(string html) =>
        html.Contains("<html", StringComparison.OrdinalIgnoreCase) || html.Contains("<body", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// R13.2: the original URL as a <c>Location</c> header can carry it: the same URL, with a
    /// non-ASCII host in its IDNA form and every other non-ASCII character percent-encoded as UTF-8;
    /// what is ASCII already (query, fragment, existing escapes) is kept byte for byte.
    /// </summary>
    public static string ToHeaderValue(string url)
    {
        if (Ascii.IsValid(url) && !url.Any(char.IsControl) && !url.Contains(' '))
        {
            return url;
        }

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var sb = new StringBuilder(url.Length + 32);
        var rest = url;
        if (schemeEnd > 0)
        {
            var authorityStart = schemeEnd + 3;
            var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
            if (authorityEnd < 0)
            {
                authorityEnd = url.Length;
            }

            var authority = url[authorityStart..authorityEnd];
            var at = authority.LastIndexOf('@');
            var userInfo = at >= 0 ? authority[..(at + 1)] : "";
            var hostPort = authority[(at + 1)..];
            var colon = hostPort.LastIndexOf(':');
            var host = colon >= 0 && !hostPort.Contains(']') ? hostPort[..colon] : hostPort;
            var port = host.Length < hostPort.Length ? hostPort[host.Length..] : "";
            string asciiHost;
            try
            {
                asciiHost = Ascii.IsValid(host) ? host : new IdnMapping().GetAscii(host);
            }
            catch (ArgumentException)
            {
                asciiHost = host;
            }

            sb.Append(url, 0, authorityStart);
            Escape(sb, userInfo);
            Escape(sb, asciiHost);
            Escape(sb, port);
            rest = url[authorityEnd..];
        }

        Escape(sb, rest);
        return sb.ToString();
    }

    private static void Escape(StringBuilder sb, string part)
    {
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < part.Length; i++)
        {
            var c = part[i];
            if (c < 0x80 && c > 0x20 && c != 0x7F)
            {
                sb.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < part.Length
                ? Encoding.UTF8.GetBytes(part.AsSpan(i++, 2), bytes)
                : Encoding.UTF8.GetBytes(part.AsSpan(i, 1), bytes);
            foreach (var b in bytes[..length])
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }
}
