using System.Text;
using System.Text.Json;
using DeliveryGrains.Client.Commands;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Targets;

/// <summary>
/// Reads an inline target: a CSV file with the header <c>profileId,address</c> (any column order,
/// other columns ignored, RFC 4180 quotes) or a JSON array of <c>{ "profileId", "address" }</c>.
/// Empty or invalid addresses are kept: preparation excludes them with their reason (R2.1).
/// </summary>
public static class TargetFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<IReadOnlyList<Recipient>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"Target file '{path}' does not exist.");
        }

        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => await ReadCsvAsync(path, cancellationToken),
            ".json" => await ReadJsonAsync(path, cancellationToken),
            _ => throw new InvalidInputException($"Target file '{path}' must be a .csv (header profileId,address) or a .json array of {{profileId, address}}."),
        };
    }

    public static IReadOnlyList<Recipient> ParseCsv(string path, IEnumerable<string> lines)
    {
        var recipients = new List<Recipient>();
        int profileColumn = -1, addressColumn = -1, lineNumber = 0;
        var header = false;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = SplitCsvLine(line, path, lineNumber);
            if (!header)
            {
                header = true;
                var names = fields.Select(f => f.Trim()).ToList();
                profileColumn = names.FindIndex(n => n.Equals("profileId", StringComparison.OrdinalIgnoreCase));
                addressColumn = names.FindIndex(n => n.Equals("address", StringComparison.OrdinalIgnoreCase));
                if (profileColumn < 0 || addressColumn < 0)
                {
                    throw new InvalidInputException($"{path}:{lineNumber}: the first line must be the header 'profileId,address'.");
                }

                continue;
            }

            if (fields.Count <= profileColumn)
            {
                throw new InvalidInputException($"{path}:{lineNumber}: expected the columns profileId,address.");
            }

            var address = addressColumn < fields.Count ? fields[addressColumn].Trim() : null;
            recipients.Add(new Recipient(fields[profileColumn].Trim(), string.IsNullOrEmpty(address) ? null : address));
        }

        if (!header)
        {
            throw new InvalidInputException($"{path}: the file is empty; the first line must be the header 'profileId,address'.");
        }

        return recipients;
    }

    private static async Task<IReadOnlyList<Recipient>> ReadCsvAsync(string path, CancellationToken cancellationToken) =>
        ParseCsv(path, await File.ReadAllLinesAsync(path, cancellationToken));

    private static async Task<IReadOnlyList<Recipient>> ReadJsonAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        try
        {
            var items = await JsonSerializer.DeserializeAsync<List<RecipientJson?>>(stream, Json, cancellationToken)
                ?? throw new InvalidInputException($"{path}: expected a JSON array of {{profileId, address}}, found null.");
            return items.Select(i => new Recipient(i?.ProfileId ?? "", string.IsNullOrWhiteSpace(i?.Address) ? null : i.Address)).ToList();
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{path}: expected a JSON array of {{profileId, address}}: {ex.Message}");
        }
    }

    private static List<string> SplitCsvLine(string line, string path, int lineNumber)
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
            throw new InvalidInputException($"{path}:{lineNumber}: a quoted field is not closed.");
        }

        fields.Add(field.ToString());
        return fields;
    }

    private sealed record RecipientJson(string? ProfileId, string? Address);
}
