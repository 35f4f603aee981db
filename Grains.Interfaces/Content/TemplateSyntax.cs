using System.Text;
using System.Text.RegularExpressions;
using Fluid;

namespace DeliveryGrains.Content;

/// <summary>Where and why a template does not parse: one-based line and column of the text as the operator wrote it.</summary>
public sealed record TemplateError(int Line, int Column, string Reason)
{
    /// <summary>The words a refusal shows after the field name: <c>line 3, column 1: …</c>.</summary>
    public override string ToString() => $"line {Line}, column {Column}: {Reason}";
}

/// <summary>
/// R14.1: the one Liquid dialect of a delivery's content, shared by the grain, the HTTP API, the
/// console and the Client so that all of them accept and refuse the same templates. The parser has
/// no <c>include</c>, <c>render</c> or <c>from</c> tag: a template reads nothing but its recipient.
/// The older <c>{{ name|fallback }}</c> form is written as Liquid before parsing.
/// </summary>
public static partial class TemplateSyntax
{
    /// <summary>The Liquid filters a template may call; a word after '|' that is not one of them is an old-form fallback.</summary>
    private static readonly HashSet<string> KnownFilters = new(TemplateOptions.Default.Filters.Select(f => f.Key), StringComparer.Ordinal);

    /// <summary>Parses concurrently without shared state (Fluid's parsers are built once and reused).</summary>
    public static FluidParser Parser { get; } = MakeParser();

    private static FluidParser MakeParser()
    {
        var parser = new FluidParser(new FluidParserOptions { AllowFunctions = false });

        // Templates come from operators: they may not read files, so the tags that would are unknown.
        foreach (var tag in new[] { "include", "render", "from", "import" })
        {
            parser.RegisteredTags.Remove(tag);
        }

        return parser;
    }

    /// <summary>Parses <paramref name="source"/> (old form translated); false with the operator's line and column when it does not parse.</summary>
    public static bool TryParse(string source, out IFluidTemplate? template, out TemplateError? error)
    {
        var (liquid, shifts) = Translate(source);
        try
        {
            template = Parser.Parse(liquid);
            error = null;
            return true;
        }
        catch (ParseException ex)
        {
            template = null;
            error = ErrorOf(source, liquid, shifts, ex);
            return false;
        }
    }

    /// <summary>R14.1: adds one problem per content part that does not parse, keyed <c>content.subject</c>, <c>content.html</c>, <c>content.text</c>.</summary>
    public static void Validate(string fieldPrefix, string? subject, string? html, string? text, Action<string, string> add)
    {
        foreach (var (name, part) in new[] { ("subject", subject), ("html", html), ("text", text) })
        {
            if (part is not null && !TryParse(part, out _, out var error))
            {
                add($"{fieldPrefix}.{name}", error!.ToString());
            }
        }
    }

    /// <summary>
    /// The older <c>{{ name|fallback }}</c> as Liquid: <c>{{ name | default: "fallback" }}</c>. A word
    /// after '|' that names a Liquid filter stays a filter (<c>{{ name|upcase }}</c>). Returns where each
    /// rewrite lengthened the text, so an error's position can be given in the operator's text.
    /// </summary>
    public static (string Liquid, IReadOnlyList<(int At, int Added)> Shifts) Translate(string source)
    {
        if (!source.Contains('|', StringComparison.Ordinal) || !source.Contains("{{", StringComparison.Ordinal))
        {
            return (source, []);
        }

        var shifts = new List<(int At, int Added)>();
        var sb = new StringBuilder(source.Length + 32);
        var last = 0;
        var added = 0;
        foreach (Match m in OldForm().Matches(source))
        {
            var fallback = m.Groups["fallback"].Value.Trim();
            var replacement = Rewrite(m.Groups["name"].Value, fallback);
            if (replacement is null)
            {
                continue;
            }

            sb.Append(source, last, m.Index - last).Append(replacement);
            last = m.Index + m.Length;
            added += replacement.Length - m.Length;
            shifts.Add((sb.Length, added));
        }

        return shifts.Count == 0 ? (source, []) : (sb.Append(source, last, source.Length - last).ToString(), shifts);
    }

    private static string? Rewrite(string name, string fallback)
    {
        var filter = FilterName().Match(fallback);
        if (filter.Success && KnownFilters.Contains(filter.Groups[1].Value))
        {
            return null;
        }

        if (fallback.Length == 0)
        {
            return $"{{{{ {name} }}}}";
        }

        // Liquid strings have no escapes: quote with the mark the fallback does not hold.
        if (!fallback.Contains('"', StringComparison.Ordinal))
        {
            return $"{{{{ {name} | default: \"{fallback}\" }}}}";
        }

        if (!fallback.Contains('\'', StringComparison.Ordinal))
        {
            return $"{{{{ {name} | default: '{fallback}' }}}}";
        }

        return $"{{% if {name} != blank %}}{{{{ {name} }}}}{{% else %}}{{% raw %}}{fallback}{{% endraw %}}{{% endif %}}";
    }

    private static TemplateError ErrorOf(string source, string liquid, IReadOnlyList<(int At, int Added)> shifts, ParseException ex)
    {
        var reason = ex.Message;
        var cut = reason.IndexOf(" at (", StringComparison.Ordinal);
        if (cut > 0)
        {
            reason = reason[..cut];
        }

        reason = reason.Trim().TrimEnd('.') + ".";
        if (ex.Position is not { } position)
        {
            return new TemplateError(1, 1, reason);
        }

        // Back from the translated text to the written one: take off what rewrites before the error added.
        var offset = Math.Clamp(position.Offset, 0, liquid.Length);
        var back = 0;
        foreach (var (at, added) in shifts)
        {
            if (at <= offset)
            {
                back = added;
            }
        }

        offset = Math.Clamp(offset - back, 0, source.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new TemplateError(line, offset - lineStart + 1, reason);
    }

    /// <summary>The old form: a name and a fallback without braces, a second '|' or a ':' (which would make it a filter with arguments).</summary>
    [GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z_][A-Za-z0-9_-]*)\s*\|(?<fallback>[^}|:]*)\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex OldForm();

    [GeneratedRegex(@"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex FilterName();
}
