using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DeliveryGrains.Client.Rendering;

/// <summary>
/// Rows of plain text under headers, written as a table that fits the terminal: columns holding ids
/// and addresses are never wrapped or cut; when the terminal is too narrow even for those, each row
/// is written as lines of "Header: value" instead. The same rows give the command's CSV.
/// </summary>
public sealed class Listing(params string[] headers)
{
    private readonly HashSet<int> _whole = [];
    private readonly HashSet<int> _right = [];

    public IReadOnlyList<string> Headers { get; } = headers;

    public List<string[]> Rows { get; } = [];

    /// <summary>Columns shown whole, never wrapped (ids, addresses).</summary>
    public Listing Whole(params int[] columns)
    {
        _whole.UnionWith(columns);
        return this;
    }

    public Listing RightAligned(params int[] columns)
    {
        _right.UnionWith(columns);
        return this;
    }

    public Listing Add(params string[] cells)
    {
        Rows.Add(cells);
        return this;
    }

    public Table ToTable()
    {
        var table = new Table().Border(TableBorder.Rounded);
        for (var c = 0; c < Headers.Count; c++)
        {
            var column = new TableColumn(Markup.Escape(Headers[c]));
            if (_whole.Contains(c))
            {
                column.NoWrap();
            }

            if (_right.Contains(c))
            {
                column.RightAligned();
            }

            table.AddColumn(column);
        }

        foreach (var row in Rows)
        {
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
        }

        return table;
    }

    public void Write(IAnsiConsole console)
    {
        var table = ToTable();
        var width = console.Profile.Width;
        var needed = ((IRenderable)table).Measure(RenderOptions.Create(console, console.Profile.Capabilities), int.MaxValue).Min;
        if (needed <= width)
        {
            console.Write(table);
            return;
        }

        // Too narrow for whole ids side by side: one block per row, one field per line.
        var label = Headers.Max(h => h.Length);
        foreach (var row in Rows)
        {
            for (var c = 0; c < Headers.Count; c++)
            {
                if (c < row.Length && row[c].Length > 0)
                {
                    console.WriteUnwrappedLine($"{Headers[c].PadRight(label)}  {row[c]}");
                }
            }

            console.WriteLine();
        }
    }

    /// <summary>RFC 4180: a header line, then one line per row; fields with a comma, quote or line break are quoted.</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Headers.Select(Quote)).Append('\n');
        foreach (var row in Rows)
        {
            csv.AppendJoin(',', row.Select(Quote)).Append('\n');
        }

        return csv.ToString();
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
