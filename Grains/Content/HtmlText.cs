using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace DeliveryGrains.Content;

/// <summary>
/// R14.2: the text part of a message given only as HTML, read with a real HTML parser: the words in
/// reading order, a blank line between paragraphs and headings, one line per list item, table
/// cells side by side, images by their alt text, and each link written out after its words
/// (<c>the offer (https://…)</c>). Scripts, styles and the head are left out.
/// </summary>
public static class HtmlText
{
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "head", "script", "style", "template", "noscript", "title", "svg", "iframe", "object",
    };

    private static readonly HashSet<string> Paragraphs = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr", "address", "figure",
    };

    private static readonly HashSet<string> Lines = new(StringComparer.OrdinalIgnoreCase)
    {
        "div", "section", "article", "header", "footer", "main", "nav", "aside", "tr", "dt", "dd", "form", "fieldset", "center", "li", "caption",
    };

    /// <summary>The readable text of <paramref name="html"/>.</summary>
    public static string From(string html)
    {
        var writer = new Writer();
        Read(html, writer);
        return writer.ToString();
    }

    /// <summary>Walks <paramref name="html"/> in reading order, telling <paramref name="sink"/> what the text is made of.</summary>
    internal static void Read(string html, TextSink sink)
    {
        var document = new HtmlParser().ParseDocument(html);
        Walk(document.Body ?? (INode?)document.DocumentElement, sink, preformatted: false);
    }

    internal static void Walk(INode? node, TextSink w, bool preformatted)
    {
        if (node is null)
        {
            return;
        }

        foreach (var child in node.ChildNodes)
        {
            switch (child)
            {
                case IText text:
                    w.Text(text.Data, preformatted);
                    break;
                case IElement element:
                    Element(element, w, preformatted);
                    break;
            }
        }
    }

    private static void Element(IElement e, TextSink w, bool preformatted)
    {
        var name = e.LocalName;
        if (Skipped.Contains(name))
        {
            return;
        }

        switch (name)
        {
            case "br":
                w.Break(1);
                return;
            case "img":
                if (e.GetAttribute("alt") is { Length: > 0 } alt)
                {
                    w.Text(alt, preformatted: false);
                }

                return;
            case "td" or "th":
                w.Space();
                Walk(e, w, preformatted);
                w.Space();
                return;
            case "a":
                w.Link(e, preformatted);
                return;
        }

        var breaks = Paragraphs.Contains(name) ? 2 : Lines.Contains(name) ? 1 : 0;
        w.Break(breaks);
        if (name == "li")
        {
            w.Literal("- ");
        }

        Walk(e, w, preformatted || name == "pre");
        w.Break(breaks);
    }

    /// <summary>What the walk finds, in reading order: text, the breaks and spaces between it, and links.</summary>
    internal abstract class TextSink
    {
        public abstract void Break(int lines);

        public abstract void Space();

        public abstract void Literal(string s);

        public abstract void Text(string s, bool preformatted);

        /// <summary>A link: its words, then where it goes.</summary>
        public abstract void Link(IElement a, bool preformatted);
    }

    /// <summary>What a link adds after its words: nothing (no href, an anchor, a script), the address alone (no words) or the address in brackets.</summary>
    internal static string LinkSuffix(string words, string? href)
    {
        href = href?.Trim();
        if (string.IsNullOrEmpty(href) || href.StartsWith('#') || href.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase))
        {
            return "";
        }

        var shown = href.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? href[7..] : href;
        return words.Length == 0 ? shown
            : string.Equals(words, shown, StringComparison.OrdinalIgnoreCase) ? ""
            : " (" + shown + ")";
    }

    /// <summary>Collapses white space as a browser shows it and keeps at most one blank line.</summary>
    internal sealed class Writer : TextSink
    {
        private readonly StringBuilder _sb;
        private int _pendingBreaks;
        private bool _pendingSpace;

        public Writer(int capacity = 256) => _sb = new StringBuilder(capacity);

        public int Length => _sb.Length;

        public string Since(int start) => _sb.ToString(start, _sb.Length - start);

        public override void Link(IElement a, bool preformatted)
        {
            var before = Length;
            Walk(a, this, preformatted);
            var suffix = LinkSuffix(Since(before).Trim(), a.GetAttribute("href"));
            if (suffix.Length > 0)
            {
                Text(suffix, preformatted: false);
            }
        }

        public override void Break(int lines)
        {
            if (lines == 0)
            {
                return;
            }

            if (lines > _pendingBreaks)
            {
                _pendingBreaks = lines;
            }

            _pendingSpace = false;
        }

        public override void Space()
        {
            if (_pendingBreaks == 0)
            {
                _pendingSpace = true;
            }
        }

        public override void Literal(string s)
        {
            Flush();
            _sb.Append(s);
        }

        public override void Text(string s, bool preformatted) => Text(s.AsSpan(), preformatted);

        public void Text(ReadOnlySpan<char> s, bool preformatted)
        {
            foreach (var c in s)
            {
                if (preformatted && c == '\n')
                {
                    _pendingBreaks = Math.Max(_pendingBreaks, 1);
                    Flush();
                }
                else if (!preformatted && char.IsWhiteSpace(c) && c != '\u00A0')
                {
                    Space();
                }
                else
                {
                    Flush();
                    _sb.Append(c == '\u00A0' ? ' ' : c);
                }
            }
        }

        private void Flush()
        {
            if (_pendingBreaks > 0)
            {
                if (_sb.Length > 0)
                {
                    TrimEnd();
                    _sb.Append('\n', _pendingBreaks);
                }

                _pendingBreaks = 0;
                _pendingSpace = false;
            }
            else if (_pendingSpace)
            {
                if (_sb.Length > 0 && _sb[^1] is not (' ' or '\n'))
                {
                    _sb.Append(' ');
                }

                _pendingSpace = false;
            }
        }

        private void TrimEnd()
        {
            while (_sb.Length > 0 && _sb[^1] == ' ')
            {
                _sb.Length--;
            }
        }

        public override string ToString()
        {
            TrimEnd();
            return _sb.ToString().Trim('\n') + (_sb.Length > 0 ? "\n" : "");
        }
    }
}
