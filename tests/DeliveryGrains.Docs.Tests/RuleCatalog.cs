using System.Text.RegularExpressions;

namespace DeliveryGrains.Docs.Tests;

/// <summary>A rule number written somewhere in the repository.</summary>
public sealed record RuleCitation(string Rule, string File, int Line);

/// <summary>
/// The rule numbers docs/rules.md defines and the ones the repository cites. A rule is defined by a
/// heading that starts with its number (<c>## R7 Retries…</c>) or by a list item or table row that
/// starts with it in bold (<c>- **R7.1** …</c>, <c>| **R5.1** | …</c>).
/// </summary>
public static partial class RuleCatalog
{
    /// <summary>Every rule docs/rules.md defines, with the line of each definition.</summary>
    public static IReadOnlyList<RuleCitation> Definitions(string rulesPath)
    {
        var definitions = new List<RuleCitation>();
        var lines = File.ReadAllLines(rulesPath);
        for (var i = 0; i < lines.Length; i++)
        {
            var match = RuleHeading().Match(lines[i]);
            if (!match.Success)
            {
                match = RuleItem().Match(lines[i]);
            }

            if (match.Success)
            {
                definitions.Add(new RuleCitation(match.Groups["rule"].Value, Repository.Relative(rulesPath), i + 1));
            }
        }

        return definitions;
    }

    /// <summary>Every rule number cited in the file: test traits, help texts, comments, prose.</summary>
    public static IEnumerable<RuleCitation> Citations(string path)
    {
        var relative = Repository.Relative(path);
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            foreach (Match match in Citation().Matches(lines[i]))
            {
                yield return new RuleCitation(match.Value, relative, i + 1);
            }
        }
    }

    /// <summary>The top-level rule of a number: R7 for R7.3.</summary>
    public static string Parent(string rule) => rule.Split('.')[0];

    [GeneratedRegex(@"^#{1,6}\s+(?<rule>R\d+)\b")]
    private static partial Regex RuleHeading();

    [GeneratedRegex(@"^\s*(?:[-*]|\|)\s*\*\*(?<rule>R\d+(?:\.\d+)?)\*\*")]
    private static partial Regex RuleItem();

    /// <summary>R, one or two digits, maybe a dot and one or two digits; not inside a word or a longer number.</summary>
    [GeneratedRegex(@"(?<![\w.])R\d{1,2}(?:\.\d{1,2})?(?![\w]|\.\d)")]
    private static partial Regex Citation();
}
