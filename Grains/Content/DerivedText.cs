using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using Fluid;
using Fluid.Values;
using static DeliveryGrains.Content.ContentMarks;

namespace DeliveryGrains.Content;

/// <summary>
/// R14.2 without an HTML parse per message: the text part of an HTML-only template, derived once
/// from the template and rendered per recipient like any other part. The Liquid markup of the HTML
/// is put aside, the HTML is read by the same walk as <see cref="HtmlText"/>, and the text it yields
/// is a Liquid template again, its breaks and spaces kept as marks (Unicode noncharacters) that
/// <see cref="Replay"/> lays out after rendering exactly as the walk lays out a rendered message.
/// Where the layout could depend on a recipient's values in a way the marks cannot carry (Liquid
/// that writes markup, markup the parser moves, Liquid inside a tag's attributes), there is no
/// derived template and each rendered message is read by <see cref="HtmlText.From"/> as before.
/// </summary>
internal static partial class DerivedText
{

    private const string Words = "dg__link_words";
    private const string Href = "dg__link_href";

    /// <summary>The derived template's own filter: what a link with Liquid in it adds after its words (<see cref="HtmlText.LinkSuffix"/>).</summary>
    private const string LinkFilter = "dg__link_suffix";

    /// <summary>The text template of <paramref name="liquidHtml"/> (already in Liquid form), or null when it must be read per message.</summary>
    public static string? Derive(string liquidHtml)
    {
        if (HasMark(liquidHtml) || Segments(liquidHtml) is not { } segments)
        {
            return null;
        }

        var placeheld = new StringBuilder(liquidHtml.Length);
        var last = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            var (start, length, _) = segments[i];
            placeheld.Append(liquidHtml, last, start - last).Append(Open).Append(i.ToString(CultureInfo.InvariantCulture)).Append(Close);
            last = start + length;
        }

        placeheld.Append(liquidHtml, last, liquidHtml.Length - last);
        var sink = new TemplateSink(liquidHtml, segments);
        HtmlText.Read(placeheld.ToString(), sink);
        return sink.Result();
    }

    /// <summary>True when a recipient's value holds one of the marks: that message is read per message.</summary>
    public static bool HasMark(string value) => ContentMarks.In(value);

    /// <summary>The rendered derived template laid out as <see cref="HtmlText.From"/> lays out the rendered HTML.</summary>
    public static string Replay(string rendered)
    {
        var w = new HtmlText.Writer(rendered.Length);
        Replay(rendered.AsSpan(), w);
        return w.ToString();
    }

    /// <summary>Adds the filter the derived templates call.</summary>
    public static TemplateOptionsBuilder AddFilter(TemplateOptionsBuilder options) =>
        options.AddFilter(LinkFilter, static (input, arguments, context) =>
        {
            var words = new HtmlText.Writer();
            Replay(arguments.At(0).ToStringValue(context).AsSpan(), words);
            var href = input.ToStringValue(context).Replace(Brace, '{');
            return new ValueTask<FluidValue>(StringValue.Create(HtmlText.LinkSuffix(words.ToString().Trim(), href)));
        });

    private static void Replay(ReadOnlySpan<char> s, HtmlText.Writer w, bool pre = false)
    {
        var run = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var next = s[i..].IndexOfAnyInRange(Open, Brace);
            if (next < 0)
            {
                break;
            }

            i += next;
            var c = s[i];

            w.Text(s[run..i], pre);
            run = i + 1;
            switch (c)
            {
                case Break1:
                    w.Break(1);
                    break;
                case Break2:
                    w.Break(2);
                    break;
                case Space:
                    w.Space();
                    break;
                case PreOn:
                    pre = true;
                    break;
                case PreOff:
                    pre = false;
                    break;
                case Brace:
                    w.Text("{", pre);
                    break;
                case LiteralOn or TrimOn:
                    var end = s[run..].IndexOf(c == LiteralOn ? LiteralOff : TrimOff);
                    end = end < 0 ? s.Length : run + end;
                    if (c == LiteralOn)
                    {
                        w.Literal(s[run..end].ToString());
                    }
                    else
                    {
                        // A link's address as the walk writes it: without the white space a value may end with.
                        Replay(s[run..end].TrimEnd(), w, pre);
                    }

                    i = end;
                    run = Math.Min(end + 1, s.Length);
                    break;
            }
        }

        w.Text(s[run..], pre);
    }

    /// <summary>
    /// The Liquid markup of <paramref name="s"/> in order: start, length and whether it is a tag
    /// (<c>{% %}</c>, which shapes the template) or an output (<c>{{ }}</c>). Null when the markup
    /// writes HTML of its own (<c>raw</c>, an escaping filter) or cannot be told apart.
    /// </summary>
    internal static List<(int Start, int Length, bool Tag)>? Segments(string s)
    {
        var segments = new List<(int, int, bool)>();
        var i = 0;
        while ((i = s.IndexOf('{', i)) >= 0 && i + 1 < s.Length)
        {
            var kind = s[i + 1];
            if (kind is not ('{' or '%'))
            {
                i++;
                continue;
            }

            var end = EndOf(s, i + 2, kind == '{' ? '}' : '%');
            if (end < 0)
            {
                return null;
            }

            var markup = s.AsSpan(i, end - i);
            if (kind == '%' && TagName().Match(s, i, end - i) is { Success: true } name)
            {
                switch (name.Groups[1].Value)
                {
                    case "raw":
                        return null;
                    case "comment":
                        var close = EndComment().Match(s, end);
                        if (!close.Success)
                        {
                            return null;
                        }

                        end = close.Index + close.Length;
                        break;
                }
            }

            if (WritesMarkup().IsMatch(markup))
            {
                return null;
            }

            segments.Add((i, end - i, kind == '%'));
            i = end;
        }

        return segments;
    }

    /// <summary>Just after the <c>}}</c> or <c>%}</c> closing the markup opened before <paramref name="from"/>, quoted strings skipped; -1 when it is not closed.</summary>
    private static int EndOf(string s, int from, char closing)
    {
        for (var i = from; i + 1 < s.Length; i++)
        {
            var c = s[i];
            if (c is '"' or '\'')
            {
                var q = s.IndexOf(c, i + 1);
                if (q < 0)
                {
                    return -1;
                }

                i = q;
            }
            else if (c == closing && s[i + 1] == '}')
            {
                return i + 2;
            }
        }

        return -1;
    }

    [GeneratedRegex(@"^\{%-?\s*([A-Za-z_]+)", RegexOptions.CultureInvariant)]
    private static partial Regex TagName();

    [GeneratedRegex(@"\{%-?\s*endcomment\s*-?%\}", RegexOptions.CultureInvariant)]
    private static partial Regex EndComment();

    /// <summary>Filters whose result goes into the HTML unencoded: the HTML part could hold markup the text part would not show as the parser does.</summary>
    [GeneratedRegex(@"\|\s*(raw|escape|escape_once|xml_escape|newline_to_br)\b", RegexOptions.CultureInvariant)]
    private static partial Regex WritesMarkup();

    /// <summary>Writes the text template as the walk goes; checks that the markup comes out whole and in the order it was written.</summary>
    private sealed class TemplateSink(string source, List<(int Start, int Length, bool Tag)> segments) : HtmlText.TextSink
    {
        private readonly StringBuilder _sb = new(source.Length / 2);
        private int _lastSegment = -1;
        private int _tags;
        private bool _broken;

        public string? Result() =>
            _broken || _tags != segments.Count(s => s.Tag) ? null : _sb.ToString();

        public override void Break(int lines)
        {
            if (lines > 0)
            {
                _sb.Append(lines == 1 ? Break1 : Break2);
            }
        }

        public override void Space() => _sb.Append(ContentMarks.Space);

        public override void Literal(string s) => _sb.Append(LiteralOn).Append(s.Replace('{', Brace)).Append(LiteralOff);

        public override void Text(string s, bool preformatted)
        {
            if (preformatted)
            {
                _sb.Append(PreOn);
            }

            Append(s, inOrder: true);
            if (preformatted)
            {
                _sb.Append(PreOff);
            }
        }

        public override void Link(IElement a, bool preformatted)
        {
            var href = a.GetAttribute("href");
            var hrefHasMarkup = href?.Contains(Open) == true;
            var probe = new ProbeSink();
            HtmlText.Walk(a, probe, preformatted);
            if (!probe.HasMarkup && hrefHasMarkup && WebAddress(href!) is { } fixedStart)
            {
                // Fixed words and an http(s) address with values in it: the address is written out
                // unless the words are the address, which they cannot be when they do not start as it does.
                var words = probe.Writer.ToString().Trim();
                if (!words.StartsWith(fixedStart, StringComparison.OrdinalIgnoreCase))
                {
                    HtmlText.Walk(a, this, preformatted);
                    if (preformatted)
                    {
                        _sb.Append(PreOff);
                    }

                    _sb.Append(words.Length == 0 ? "" : " (").Append(TrimOn);
                    _broken |= !Append(href!.TrimStart(), inOrder: false);
                    _sb.Append(TrimOff).Append(words.Length == 0 ? "" : ")");
                    if (preformatted)
                    {
                        _sb.Append(PreOn);
                    }

                    return;
                }
            }

            if (!hrefHasMarkup)
            {
                // Words and address fixed: decided here, as the walk of a rendered message decides it.
                if (!probe.HasMarkup)
                {
                    HtmlText.Walk(a, this, preformatted);
                    var suffix = HtmlText.LinkSuffix(probe.Writer.ToString().Trim(), href);
                    if (suffix.Length > 0)
                    {
                        Text(suffix, preformatted: false);
                    }

                    return;
                }
            }

            // A recipient's values are in the words or the address: the link filter decides per message.
            _sb.Append("{% capture ").Append(Words).Append(" %}");
            HtmlText.Walk(a, this, preformatted);
            _sb.Append("{% endcapture %}{{ ").Append(Words).Append(" }}{% capture ").Append(Href).Append(" %}");
            if (href is not null && !Append(href, inOrder: false))
            {
                _broken = true;
            }

            _sb.Append("{% endcapture %}");
            if (preformatted)
            {
                _sb.Append(PreOff);
            }

            _sb.Append("{{ ").Append(Href).Append(" | ").Append(LinkFilter).Append(": ").Append(Words).Append(" }}");
            if (preformatted)
            {
                _sb.Append(PreOn);
            }
        }

        /// <summary>The fixed start of an http(s) address that holds values (up to the first of them), or null when it is not one.</summary>
        private static string? WebAddress(string href)
        {
            var start = href.AsSpan().TrimStart();
            start = start[..start.IndexOf(Open)];
            return start.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || start.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                ? start.ToString()
                : null;
        }

        /// <summary>Appends text with its markup put back; false when an attribute holds a tag (its place in the template cannot be kept).</summary>
        private bool Append(string s, bool inOrder)
        {
            var ok = true;
            var i = 0;
            while (i < s.Length)
            {
                var open = s.IndexOf(Open, i);
                var literal = s.AsSpan(i, (open < 0 ? s.Length : open) - i);
                foreach (var c in literal)
                {
                    _sb.Append(c == '{' ? Brace : c);
                }

                if (open < 0)
                {
                    break;
                }

                var close = s.IndexOf(Close, open);
                if (close < 0 || !int.TryParse(s.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= segments.Count)
                {
                    _broken = true;
                    return false;
                }

                var (start, length, tag) = segments[index];
                if (inOrder)
                {
                    if (index <= _lastSegment)
                    {
                        _broken = true;
                    }

                    _lastSegment = index;
                    _tags += tag ? 1 : 0;
                }
                else if (tag)
                {
                    ok = false;
                }

                _sb.Append(source, start, length);
                i = close + 1;
            }

            return ok;
        }
    }

    /// <summary>Reads a link's words with the real layout and notes whether Liquid markup is among them.</summary>
    private sealed class ProbeSink : HtmlText.TextSink
    {
        public HtmlText.Writer Writer { get; } = new();

        public bool HasMarkup { get; private set; }

        public override void Break(int lines) => Writer.Break(lines);

        public override void Space() => Writer.Space();

        public override void Literal(string s) => Writer.Literal(s);

        public override void Text(string s, bool preformatted)
        {
            HasMarkup |= s.Contains(Open);
            Writer.Text(s, preformatted);
        }

        public override void Link(IElement a, bool preformatted) => Writer.Link(a, preformatted);
    }
}
