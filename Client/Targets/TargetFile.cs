using System.Text;
using System.Text.Json;
using DeliveryGrains.Addresses;
using DeliveryGrains.Client.Commands;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Targets;

/// <summary>A recipient of a target file and where it was written (a line of a CSV, an entry of a JSON array).</summary>
public sealed record TargetEntry(int Line, string ProfileId, string? Address, string? Written);

/// <summary>A target file and what a person should know about it before it is sent.</summary>
public sealed record Target(string Path, IReadOnlyList<TargetEntry> Entries, IReadOnlyList<string> Notes)
{
    public IReadOnlyList<Recipient> Recipients => [.. Entries.Select(e => new Recipient(e.ProfileId, e.Address))];
}

/// <summary>A target file the client refuses, with every problem on its own line ("customers.csv:7: …").</summary>
public sealed class TargetFileException(string path, IReadOnlyList<string> problems)
    : Exception($"{path}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}; fix {(problems.Count == 1 ? "it" : "them")} and run the command again.")
{
    public string Path { get; } = path;

    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Reads an inline target: a CSV file with the header <c>profileId,address</c> (any column order,
/// other columns ignored, RFC 4180 quotes) or a JSON array of <c>{ "profileId", "address" }</c>.
/// Every problem that would refuse the delivery is found at once and told by line: a missing or bad
/// profile id, a profile listed twice (each profile gets one message: which of two addresses would
/// it be?), a file with no recipient. Empty and invalid addresses are kept (preparation excludes
/// them with their reason, R2.1) and told as notes. SMS numbers are written in E.164 first
/// (<see cref="PhoneNumbers"/>).
/// </summary>
public static class TargetFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Notes listed one per line; beyond this many, the rest are counted.</summary>
    public const int NotesShown = 20;

    public static async Task<Target> ReadAsync(string path, Channel channel, string? defaultCountryCode, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"Target file '{path}' does not exist (looked in {System.IO.Path.GetFullPath(path)}).");
        }

        var entries = System.IO.Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => ParseCsv(path, await File.ReadAllLinesAsync(path, cancellationToken)),
            ".json" => await ReadJsonAsync(path, cancellationToken),
            _ => throw new InvalidInputException($"Target file '{path}' must be a .csv (header profileId,address) or a .json array of {{profileId, address}}."),
        };
        return Check(path, entries, channel, defaultCountryCode);
    }

    /// <summary>Refuses the target with every line that must change; answers it with SMS numbers in E.164 and notes on the addresses preparation will exclude.</summary>
    public static Target Check(string path, IReadOnlyList<TargetEntry> entries, Channel channel, string? defaultCountryCode)
    {
        var name = System.IO.Path.GetFileName(path);
        var json = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        string Where(int line) => json ? $"{name} entry {line}" : $"{name}:{line}";

        var problems = new List<string>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry.ProfileId))
            {
                problems.Add($"{Where(entry.Line)}: no profile id; every recipient needs one.");
            }
            else if (entry.ProfileId.Contains('/'))
            {
                problems.Add($"{Where(entry.Line)}: profile id '{entry.ProfileId}' contains '/', which a profile id cannot hold.");
            }
            else if (firstLine.TryGetValue(entry.ProfileId, out var earlier))
            {
                problems.Add($"{Where(entry.Line)}: profile '{entry.ProfileId}' is already on {(json ? "entry" : "line")} {earlier}; a profile gets one message, so keep one of the two.");
            }
            else
            {
                firstLine[entry.ProfileId] = entry.Line;
            }
        }

        if (entries.Count == 0)
        {
            problems.Add(json
                ? $"{name}: the array holds no recipient; add objects {{\"profileId\": \"p-1\", \"address\": \"ann@example.test\"}}."
                : $"{name}: the file has its header but no recipient; add one line per recipient below it, e.g. 'p-1,ann@example.test'.");
        }

        if (problems.Count > 0)
        {
            throw new TargetFileException(name, problems);
        }

        var notes = new List<string>();
        var normalized = new List<TargetEntry>(entries.Count);
        foreach (var entry in entries)
        {
            var address = entry.Address;
            if (channel == Channel.Sms && address is not null)
            {
                address = PhoneNumbers.ToE164(address, defaultCountryCode);
            }

            if (address is null)
            {
                notes.Add($"{Where(entry.Line)}: profile '{entry.ProfileId}' has no address; preparation excludes it as AddressEmpty.");
            }
            else if (!AddressSyntax.IsValid(AddressSyntax.Normalize(address, channel), channel))
            {
                notes.Add(channel == Channel.Sms
                    ? $"{Where(entry.Line)}: '{entry.Written}' is not a phone number in international form (+ country code and number, e.g. +1 555 000 1002){(defaultCountryCode is null && PhoneNumbers.IsNational(entry.Written) ? "; give --country (or Client:DefaultCountryCode) to read national numbers" : "")}; preparation excludes it as InvalidAddress."
                    : $"{Where(entry.Line)}: '{entry.Written}' is not an email address; preparation excludes it as InvalidAddress.");
            }

            normalized.Add(entry with { Address = address });
        }

        return new Target(name, normalized, notes);
    }

    /// <summary>
    /// The rules' problems with single recipients (<c>recipients[3].address</c>: too long, …) told by
    /// the line of the file they come from, every one; nothing when the entries are fine.
    /// </summary>
    public static void RefuseEntries(Target target, IReadOnlyDictionary<string, string[]> errors)
    {
        var json = target.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var problems = new List<(int Line, string Message)>();
        foreach (var (field, messages) in errors)
        {
            if (!field.StartsWith("recipients[", StringComparison.Ordinal) || field.IndexOf(']', StringComparison.Ordinal) is var close && close < 0
                || !int.TryParse(field.AsSpan(11, close - 11), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
                || index >= target.Entries.Count)
            {
                continue;
            }

            var line = target.Entries[index].Line;
            var where = json ? $"{target.Path} entry {line}" : $"{target.Path}:{line}";
            var what = field[(close + 1)..].TrimStart('.');
            problems.AddRange(messages.Select(m => (line, $"{where}: {(what.Length > 0 ? what + ": " : "")}{m}")));
        }

        if (problems.Count > 0)
        {
            throw new TargetFileException(target.Path, [.. problems.OrderBy(p => p.Line).Select(p => p.Message)]);
        }
    }

    public static IReadOnlyList<TargetEntry> ParseCsv(string path, IEnumerable<string> lines)
    {
        var name = System.IO.Path.GetFileName(path);
        var entries = new List<TargetEntry>();
        var problems = new List<string>();
        int profileColumn = -1, addressColumn = -1, lineNumber = 0;
        var header = false;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = SplitCsvLine(line);
            if (fields is null)
            {
                problems.Add($"{name}:{lineNumber}: a quoted field is not closed; end it with a '\"'.");
                continue;
            }

            if (!header)
            {
                header = true;
                var names = fields.Select(f => f.Trim()).ToList();
                profileColumn = names.FindIndex(n => n.Equals("profileId", StringComparison.OrdinalIgnoreCase));
                addressColumn = names.FindIndex(n => n.Equals("address", StringComparison.OrdinalIgnoreCase));
                if (profileColumn < 0 || addressColumn < 0)
                {
                    throw new TargetFileException(name, [$"{name}:{lineNumber}: the first line must be the header 'profileId,address' (found '{line.Trim()}')."]);
                }

                continue;
            }

            if (fields.Count <= profileColumn)
            {
                problems.Add($"{name}:{lineNumber}: {fields.Count} column{(fields.Count == 1 ? "" : "s")} where the header has {Math.Max(profileColumn, addressColumn) + 1}; write 'profileId,address'.");
                continue;
            }

            var written = addressColumn < fields.Count ? fields[addressColumn].Trim() : null;
            entries.Add(new TargetEntry(lineNumber, fields[profileColumn].Trim(), string.IsNullOrEmpty(written) ? null : written, written));
        }

        if (!header)
        {
            throw new TargetFileException(name, [$"{name}: the file is empty; write the header 'profileId,address' on the first line, then one recipient per line."]);
        }

        if (problems.Count > 0)
        {
            throw new TargetFileException(name, problems);
        }

        return entries;
    }

    private static async Task<IReadOnlyList<TargetEntry>> ReadJsonAsync(string path, CancellationToken cancellationToken)
    {
        var name = System.IO.Path.GetFileName(path);
        await using var stream = File.OpenRead(path);
        try
        {
            var items = await JsonSerializer.DeserializeAsync<List<RecipientJson?>>(stream, Json, cancellationToken)
                ?? throw new TargetFileException(name, [$"{name}: expected a JSON array of {{profileId, address}}, found null."]);
            return [.. items.Select((i, index) => new TargetEntry(index + 1, i?.ProfileId?.Trim() ?? "", string.IsNullOrWhiteSpace(i?.Address) ? null : i.Address.Trim(), i?.Address))];
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, character {ex.BytePositionInLine + 1})" : "";
            throw new TargetFileException(name, [$"{name}{where}: expected a JSON array of {{\"profileId\": \"…\", \"address\": \"…\"}} with text values."]);
        }
    }

    /// <summary>The fields of one CSV line, or null when a quoted field is not closed.</summary>
    private static List<string>? SplitCsvLine(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            return null;
        }

        fields.Add(field.ToString());
        return fields;
    }

    private sealed record RecipientJson(string? ProfileId, string? Address);
}
