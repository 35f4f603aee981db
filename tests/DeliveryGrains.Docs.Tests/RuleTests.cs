namespace DeliveryGrains.Docs.Tests;

/// <summary>Every rule number the code and the docs cite is one a reader can look up in docs/rules.md.</summary>
public sealed class RuleTests
{
    private static readonly IReadOnlyList<RuleCitation> Defined = RuleCatalog.Definitions(Repository.RulesPath);

    [Fact]
    public void Every_rule_number_cited_in_code_tests_help_texts_and_docs_is_defined_in_docs_rules()
    {
        var defined = Defined.Select(d => d.Rule).ToHashSet(StringComparer.Ordinal);
        var citations = Repository.Files(".cs", ".md", ".razor", ".cshtml")
            .SelectMany(RuleCatalog.Citations)
            .ToList();
        var undefined = citations.Where(c => !defined.Contains(c.Rule))
            .Select(c => $"{c.File}:{c.Line}: {c.Rule}")
            .ToList();

        Assert.True(undefined.Count == 0,
            "These rule numbers are cited but docs/rules.md does not define them (add the rule there, or cite the right one):\n"
            + string.Join("\n", undefined));
        Assert.Contains(citations, c => c.File.StartsWith("tests/", StringComparison.Ordinal));
    }

    [Fact]
    public void Docs_rules_defines_R1_to_R14_each_once_with_sub_rules_numbered_from_one_without_gaps()
    {
        var duplicates = Defined.GroupBy(d => d.Rule).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key} at lines {string.Join(", ", g.Select(d => d.Line))}").ToList();
        Assert.True(duplicates.Count == 0, "Defined more than once in docs/rules.md: " + string.Join("; ", duplicates));

        var tops = Defined.Where(d => !d.Rule.Contains('.')).Select(d => d.Rule).ToList();
        Assert.Equal(Enumerable.Range(1, 14).Select(n => $"R{n}"), tops);

        foreach (var group in Defined.Where(d => d.Rule.Contains('.')).GroupBy(d => RuleCatalog.Parent(d.Rule)))
        {
            Assert.Contains(group.Key, tops);
            var numbers = group.Select(d => int.Parse(d.Rule.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.True(numbers.SequenceEqual(Enumerable.Range(1, numbers.Count)),
                $"{group.Key}'s sub-rules are numbered {string.Join(", ", numbers)} in docs/rules.md; number them 1, 2, 3… in order.");
        }
    }
}
