using System.Buffers;
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
    internal sealed class Writer(int capacity = 256) : TextSink
    {
        /// <summary>What a text breaks at: white space other than the plain space, and the no-break space (which stays, as a space).</summary>
        private static readonly SearchValues<char> Special = SearchValues.Create(
            [.. Enumerable.Range(0, char.MaxValue + 1).Select(i => (char)i).Where(c => c != ' ' && char.IsWhiteSpace(c))]);

        private static readonly SearchValues<char> PreformattedSpecial = SearchValues.Create("\n\u00A0");

        // A plain buffer, not a StringBuilder: the text part of every message is copied through here.
        private char[] _buffer = new char[Math.Max(capacity, 16)];
        private int _length;
        private int _pendingBreaks;
        private bool _pendingSpace;

        public int Length => _length;

        public string Since(int start) => new(_buffer, start, _length - start);

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
            Reserve(s.Length);
            s.CopyTo(_buffer.AsSpan(_length));
            _length += s.Length;
        }

        public override void Text(string s, bool preformatted) => Text(s.AsSpan(), preformatted);

        public void Text(ReadOnlySpan<char> s, bool preformatted)
        {
            // Words and the single spaces between them are copied as they stand; the rest is looked at a character at a time.
            while (!s.IsEmpty)
            {
                var stop = s.IndexOfAny(preformatted ? PreformattedSpecial : Special);
                if (preformatted)
                {
                    Copy(stop < 0 ? s : s[..stop]);
                }
                else
                {
                    Words(stop < 0 ? s : s[..stop]);
                }

                if (stop < 0)
                {
                    return;
                }

                var c = s[stop];
                s = s[(stop + 1)..];
                if (c == '\u00A0')
                {
                    Copy(" ");
                }
                else if (preformatted)
                {
                    _pendingBreaks = Math.Max(_pendingBreaks, 1);
                    Flush();
                }
                else
                {
                    Space();
                }
            }
        }

        /// <summary>Text whose only white space is the plain space.</summary>
        private void Words(ReadOnlySpan<char> s)
        {
            while (!s.IsEmpty)
            {
                if (s[0] == ' ')
                {
                    Space();
                    s = s.TrimStart(' ');
                    continue;
                }

                var end = s.IndexOf("  ", StringComparison.Ordinal);
                var part = end < 0 ? s : s[..end];
                var trailing = part[^1] == ' ';
                Copy(trailing ? part[..^1] : part);
                if (trailing)
                {
                    Space();
                }

                s = s[part.Length..];
            }
        }

        private void Copy(ReadOnlySpan<char> s)
        {
            if (s.IsEmpty)
            {
                return;
            }

            Flush();
            Reserve(s.Length);
            s.CopyTo(_buffer.AsSpan(_length));
            _length += s.Length;
        }

        private void Reserve(int more)
        {
            if (_length + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
            }
        }

        private void Flush()
        {
            if (_pendingBreaks > 0)
            {
                if (_length > 0)
                {
                    TrimEnd();
                    Reserve(_pendingBreaks);
                    _buffer.AsSpan(_length, _pendingBreaks).Fill('\n');
                    _length += _pendingBreaks;
                }

                _pendingBreaks = 0;
                _pendingSpace = false;
            }
            else if (_pendingSpace)
            {
                if (_length > 0 && _buffer[_length - 1] is not (' ' or '\n'))
                {
                    Reserve(1);
                    _buffer[_length++] = ' ';
                }

                _pendingSpace = false;
            }
        }

        private void TrimEnd()
        {
            while (_length > 0 && _buffer[_length - 1] == ' ')
            {
                _length--;
            }
        }

        public override string ToString()
        {
            TrimEnd();
            return _length == 0 ? "" : string.Concat(_buffer.AsSpan(0, _length).Trim('\n'), "\n");
        }
    }
}
