namespace DeliveryGrains.Docs.Tests;

/// <summary>The checked-out repository: its root (the folder holding DeliveryGrains.sln) and its files.</summary>
public static class Repository
{
    /// <summary>Folders that hold build output, packages or tool state, never the project's own files.</summary>
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.OrdinalIgnoreCase)
    {
        "bin", "obj", "node_modules", "TestResults", "BenchmarkDotNet.Artifacts", "wwwroot",
    };

    public static string Root { get; } = FindRoot();

    public static string RulesPath => Path.Combine(Root, "docs", "rules.md");

    /// <summary>Every file of the repository with one of the extensions, as full paths.</summary>
    public static IReadOnlyList<string> Files(params string[] extensions)
    {
        var found = new List<string>();
        var pending = new Stack<string>();
        pending.Push(Root);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            foreach (var child in Directory.EnumerateDirectories(folder))
            {
                var name = Path.GetFileName(child);
                if (!name.StartsWith('.') && !SkippedFolders.Contains(name))
                {
                    pending.Push(child);
                }
            }

            found.AddRange(Directory.EnumerateFiles(folder)
                .Where(f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase))));
        }

        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>A path as the repository names it: relative to the root, with forward slashes.</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "DeliveryGrains.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No folder above {AppContext.BaseDirectory} holds DeliveryGrains.sln; run the tests from a checkout of the repository.");
    }
}
