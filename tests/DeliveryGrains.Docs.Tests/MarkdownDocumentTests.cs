namespace DeliveryGrains.Docs.Tests;

/// <summary>The Markdown reading the link check relies on: what counts as a link and which anchors a page has.</summary>
public sealed class MarkdownDocumentTests
{
    [Theory]
    [InlineData("Durable mode (PostgreSQL)", "durable-mode-postgresql")]
    [InlineData("`Mta:Smtp:Host` and friends", "mtasmtphost-and-friends")]
    [InlineData("R7 Retries and validity period", "r7-retries-and-validity-period")]
    [InlineData("POST /api/deliveries/{id}/confirm", "post-apideliveriesidconfirm")]
    [InlineData("See [the rules](rules.md) first", "see-the-rules-first")]
    [InlineData("deliverygrains_kpi_lag_seconds", "deliverygrains_kpi_lag_seconds")]
    [InlineData("Schema, migrations & backups", "schema-migrations--backups")]
    public void Headings_get_GitHubs_anchors(string heading, string anchor) =>
        Assert.Equal(anchor, MarkdownDocument.Slug(heading));

    [Fact]
    public void Links_in_code_are_not_links_and_repeated_headings_are_numbered()
    {
        var document = MarkdownDocument.Parse("x.md", string.Join('\n',
            "# Title",
            "See [rules](docs/rules.md#r1-roles) and ![shot](img/a.png \"a shot\").",
            "Not a link: `[x](nowhere.md)`.",
            "```",
            "[y](also-nowhere.md)",
            "```",
            "## Notes",
            "## Notes",
            "[ref]: CONTRIBUTING.md",
            "<a id=\"custom\"></a> <a href=\"docs/api.md\">api</a>"));

        Assert.Equal(["docs/rules.md#r1-roles", "img/a.png", "CONTRIBUTING.md", "docs/api.md"], document.Links.Select(l => l.Target));
        Assert.Superset(new HashSet<string> { "title", "notes", "notes-1", "custom" }, document.Anchors.ToHashSet());
    }
}
