using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DeliveryGrains.Docs.Tests;

/// <summary>A link written in a Markdown file: where it points and the line it is on.</summary>
public sealed record MarkdownLink(string Target, int Line);

/// <summary>
/// What the checks need of a Markdown file: its links (outside code) and the anchors its headings
/// get on GitHub. Code blocks and code spans are prose about links, not links, so they are skipped.
/// </summary>
public sealed partial class MarkdownDocument
{
    private MarkdownDocument(string path, IReadOnlyList<string> lines)
    {
        Path = path;
        Lines = lines;
        var links = new List<MarkdownLink>();
        var anchors = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var slugCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        string? fence = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (fence is not null)
            {
                if (trimmed.StartsWith(fence, StringComparison.Ordinal) && trimmed.Trim().Trim(fence[0]).Length == 0)
                {
                    fence = null;
                }

                continue;
            }

            if (FenceOpening().Match(line) is { Success: true } opening)
            {
                fence = opening.Groups[1].Value;
                continue;
            }

            if (IndentedCode().IsMatch(line) && (i == 0 || lines[i - 1].Trim().Length == 0 || IndentedCode().IsMatch(lines[i - 1]))
                && !ListContinuation(lines, i))
            {
                continue;
            }

            var prose = WithoutCodeSpans(line);
            foreach (Match m in InlineLink().Matches(prose))
            {
                links.Add(new MarkdownLink(m.Groups["target"].Value, i + 1));
            }

            if (ReferenceDefinition().Match(prose) is { Success: true } reference)
            {
                links.Add(new MarkdownLink(reference.Groups["target"].Value, i + 1));
            }

            foreach (Match m in HtmlLink().Matches(prose))
            {
                links.Add(new MarkdownLink(m.Groups["target"].Value, i + 1));
            }

            foreach (Match m in HtmlAnchor().Matches(prose))
            {
                anchors.Add(m.Groups["id"].Value);
            }

            string? heading = null;
            if (AtxHeading().Match(line) is { Success: true } atx)
            {
                heading = atx.Groups["text"].Value;
            }
            else if (i + 1 < lines.Count && trimmed.Length > 0 && !trimmed.StartsWith('|') && !trimmed.StartsWith('-')
                && !trimmed.StartsWith('*') && SetextUnderline().IsMatch(lines[i + 1]))
            {
                heading = trimmed;
            }

            if (heading is not null)
            {
                var slug = Slug(heading);
                var n = slugCounts.GetValueOrDefault(slug);
                slugCounts[slug] = n + 1;
                anchors.Add(n == 0 ? slug : $"{slug}-{n}");
            }
        }

        Links = links;
        Anchors = anchors;
    }

    public string Path { get; }

    public IReadOnlyList<string> Lines { get; }

    public IReadOnlyList<MarkdownLink> Links { get; }

    /// <summary>The fragments a link may name: GitHub's heading anchors and explicit <c>&lt;a id&gt;</c>/<c>name</c> anchors.</summary>
    public IReadOnlySet<string> Anchors { get; }

    public static MarkdownDocument Load(string path) => new(path, File.ReadAllLines(path));

    public static MarkdownDocument Parse(string path, string text) => new(path, text.Split('\n').Select(l => l.TrimEnd('\r')).ToList());

    /// <summary>
    /// The anchor GitHub gives a heading: its rendered text (links and emphasis reduced to their
    /// words, tags dropped) lower-cased, punctuation other than '-' and '_' removed, spaces made '-'.
    /// </summary>
    public static string Slug(string heading)
    {
        var text = LinkText().Replace(heading, "${text}");
        text = HtmlTag().Replace(text, "");
        text = EmphasisUnderscore().Replace(text, "${text}");
        var slug = new StringBuilder(text.Length);
        foreach (var c in text.Trim().ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (c == ' ')
            {
                slug.Append('-');
            }
            else if (c == '-' || char.IsLetterOrDigit(c) || category is UnicodeCategory.ConnectorPunctuation
                     or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
            {
                slug.Append(c);
            }
        }

        return slug.ToString();
    }

    /// <summary>An indented line inside a list item continues the item; it is not a code block.</summary>
    private static bool ListContinuation(IReadOnlyList<string> lines, int index)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            var line = lines[i];
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (ListItem().IsMatch(line))
            {
                return true;
            }

            if (!IndentedCode().IsMatch(line))
            {
                return false;
            }
        }

        return false;
    }

    private static string WithoutCodeSpans(string line)
    {
        var result = new StringBuilder(line.Length);
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] != '`')
            {
                result.Append(line[i++]);
                continue;
            }

            var run = 1;
            while (i + run < line.Length && line[i + run] == '`')
            {
                run++;
            }

            var ticks = new string('`', run);
            var close = line.IndexOf(ticks, i + run, StringComparison.Ordinal);
            if (close < 0)
            {
                result.Append(ticks);
                i += run;
                continue;
            }

            result.Append(' ');
            i = close + run;
        }

        return result.ToString();
    }

    [GeneratedRegex(@"^\s{0,3}(`{3,}|~{3,})")]
    private static partial Regex FenceOpening();

    [GeneratedRegex(@"^(\t| {4})")]
    private static partial Regex IndentedCode();

    [GeneratedRegex(@"^\s*([-*+]|\d+[.)])\s")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(?:<(?<target>[^>]*)>|(?<target>[^\s)]+))(?:\s+(?:""[^""]*""|'[^']*'))?\s*\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s*<?(?<target>[^\s>]+)>?")]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"<(?:a|img)\s[^>]*?(?:href|src)\s*=\s*""(?<target>[^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlLink();

    [GeneratedRegex(@"<a\s[^>]*?(?:id|name)\s*=\s*""(?<id>[^""]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlAnchor();

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(?<text>.*?)(?:\s+#+)?\s*$")]
    private static partial Regex AtxHeading();

    [GeneratedRegex(@"^\s{0,3}(=+|-+)\s*$")]
    private static partial Regex SetextUnderline();

    [GeneratedRegex(@"!?\[(?<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)")]
    private static partial Regex LinkText();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex HtmlTag();

    [GeneratedRegex(@"(?<![\w])__?(?<text>[^_]+)__?(?![\w])")]
    private static partial Regex EmphasisUnderscore();
}
