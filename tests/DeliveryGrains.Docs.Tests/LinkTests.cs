namespace DeliveryGrains.Docs.Tests;

/// <summary>A fresh clone stands on its own: every relative link of every Markdown file lands inside it.</summary>
public sealed class LinkTests
{
    private static readonly IReadOnlyList<string> MarkdownFiles = Repository.Files(".md");

    [Fact]
    public void The_repository_has_its_own_documentation()
    {
        foreach (var page in new[] { "README.md", "CONTRIBUTING.md", "docs/README.md", "docs/rules.md", "docs/api.md", "docs/configuration.md", "docs/operations.md" })
        {
            Assert.True(File.Exists(Path.Combine(Repository.Root, page)), $"{page} is missing.");
        }
    }

    [Fact]
    public void Every_relative_link_resolves_to_a_file_or_heading_inside_the_repository()
    {
        var documents = new Dictionary<string, MarkdownDocument>(StringComparer.Ordinal);
        MarkdownDocument Document(string path) =>
            documents.TryGetValue(path, out var d) ? d : documents[path] = MarkdownDocument.Load(path);

        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var file in MarkdownFiles)
        {
            var document = Document(file);
            foreach (var link in document.Links)
            {
                var problem = Check(file, link.Target, Document);
                checkedLinks += problem is null ? 1 : 0;
                if (problem is not null)
                {
                    broken.Add($"{Repository.Relative(file)}:{link.Line}: ({link.Target}) {problem}");
                }
            }
        }

        Assert.True(broken.Count == 0, $"{broken.Count} broken link(s):\n" + string.Join("\n", broken));
        Assert.True(checkedLinks > 0, "No link was found at all; the Markdown scan is broken.");
    }

    [Fact]
    public void No_Markdown_file_sends_the_reader_outside_the_repository_to_shared()
    {
        var found = MarkdownFiles
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, i)))
            .Where(x => x.line.Contains("../shared", StringComparison.Ordinal) || x.line.Contains("/work/shared", StringComparison.Ordinal))
            .Select(x => $"{Repository.Relative(x.file)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();

        Assert.True(found.Count == 0,
            "These lines point at the shared folder beside the repository, which a fresh clone does not have; "
            + "link docs/rules.md, docs/api.md or docs/configuration.md instead:\n" + string.Join("\n", found));
    }

    /// <summary>Why a link is broken, or null when it resolves.</summary>
    private static string? Check(string file, string target, Func<string, MarkdownDocument> document)
    {
        if (target.Length == 0)
        {
            return "is empty";
        }

        if (IsExternal(target))
        {
            return null;
        }

        var hash = target.IndexOf('#');
        var pathPart = hash < 0 ? target : target[..hash];
        var anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
        var query = pathPart.IndexOf('?');
        if (query >= 0)
        {
            pathPart = pathPart[..query];
        }

        string resolved;
        if (pathPart.Length == 0)
        {
            resolved = file;
        }
        else
        {
            var relative = Uri.UnescapeDataString(pathPart).Replace('/', Path.DirectorySeparatorChar);
            resolved = Path.GetFullPath(relative.StartsWith(Path.DirectorySeparatorChar)
                ? Path.Combine(Repository.Root, relative.TrimStart(Path.DirectorySeparatorChar))
                : Path.Combine(Path.GetDirectoryName(file)!, relative));
            var root = Repository.Root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            if (!resolved.StartsWith(root, StringComparison.Ordinal) && resolved != Repository.Root)
            {
                return "leaves the repository; a fresh clone has nothing there";
            }

            if (Directory.Exists(resolved))
            {
                return anchor is null ? null : "names a heading in a folder";
            }

            if (!File.Exists(resolved))
            {
                return $"names {Repository.Relative(resolved)}, which does not exist";
            }
        }

        if (string.IsNullOrEmpty(anchor) || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var anchors = document(resolved).Anchors;
        return anchors.Contains(anchor) ? null
            : $"names the heading #{anchor}, which {Repository.Relative(resolved)} does not have";
    }

    private static bool IsExternal(string target)
    {
        var colon = target.IndexOf(':');
        if (colon <= 0)
        {
            return false;
        }

        var scheme = target[..colon];
        return char.IsAsciiLetter(scheme[0]) && scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');
    }
}
