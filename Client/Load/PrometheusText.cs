using System.Globalization;

namespace DeliveryGrains.Client.Load;

/// <summary>One sample of a Prometheus text exposition: <c>name{label="value",…} value</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A minimal reader of the Prometheus text format (version 0.0.4), enough for the gauges and
/// histograms the load tool reads: comments and blank lines are skipped, label values are
/// unescaped, a trailing timestamp is ignored, and a line it cannot read is skipped rather than
/// failing the whole scrape.
/// </summary>
public sealed class PrometheusText
{
    private PrometheusText(IReadOnlyList<PrometheusSample> samples) => Samples = samples;

    public IReadOnlyList<PrometheusSample> Samples { get; }

    public static PrometheusText Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length > 0 && line[0] != '#' && TryParseLine(line, out var sample))
            {
                samples.Add(sample);
            }
        }

        return new PrometheusText(samples);
    }

    /// <summary>The samples named <paramref name="name"/>, every label set.</summary>
    public IEnumerable<PrometheusSample> Named(string name) => Samples.Where(s => s.Name == name);

    /// <summary>The largest value among the samples named <paramref name="name"/>; null when there is none.</summary>
    public double? Max(string name)
    {
        double? max = null;
        foreach (var sample in Named(name))
        {
            max = max is { } m ? Math.Max(m, sample.Value) : sample.Value;
        }

        return max;
    }

    /// <summary>The cumulative buckets of histogram <paramref name="baseName"/> (its <c>_bucket</c> samples, summed over other labels), by upper bound.</summary>
    public HistogramBuckets? Histogram(string baseName)
    {
        var buckets = new SortedDictionary<double, double>();
        foreach (var sample in Named(baseName + "_bucket"))
        {
            if (sample.Label("le") is { } le && TryParseValue(le, out var bound))
            {
                buckets[bound] = buckets.TryGetValue(bound, out var before) ? before + sample.Value : sample.Value;
            }
        }

        return buckets.Count == 0 ? null : new HistogramBuckets(buckets.Select(b => new HistogramBucket(b.Key, b.Value)).ToList());
    }

    private static bool TryParseLine(string line, out PrometheusSample sample)
    {
        sample = null!;
        var i = 0;
        while (i < line.Length && line[i] != '{' && !char.IsWhiteSpace(line[i]))
        {
            i++;
        }

        var name = line[..i];
        if (name.Length == 0)
        {
            return false;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{' && !TryParseLabels(line, ref i, labels))
        {
            return false;
        }

        var rest = line[i..].Trim();
        var end = rest.IndexOfAny([' ', '\t']);
        var value = end < 0 ? rest : rest[..end];
        if (!TryParseValue(value, out var number))
        {
            return false;
        }

        sample = new PrometheusSample(name, labels, number);
        return true;
    }

    /// <summary>Reads <c>{a="x",b="y\"z"}</c> starting at the brace; leaves <paramref name="i"/> after the closing brace.</summary>
    private static bool TryParseLabels(string line, ref int i, Dictionary<string, string> labels)
    {
        i++; // '{'
        while (true)
        {
            while (i < line.Length && (line[i] == ',' || char.IsWhiteSpace(line[i])))
            {
                i++;
            }

            if (i >= line.Length)
            {
                return false;
            }

            if (line[i] == '}')
            {
                i++;
                return true;
            }

            var start = i;
            while (i < line.Length && line[i] != '=')
            {
                i++;
            }

            if (i + 1 >= line.Length || line[i + 1] != '"')
            {
                return false;
            }

            var key = line[start..i].Trim();
            i += 2; // '="'
            var value = new System.Text.StringBuilder();
            while (i < line.Length && line[i] != '"')
            {
                if (line[i] == '\\' && i + 1 < line.Length)
                {
                    i++;
                    value.Append(line[i] == 'n' ? '\n' : line[i]);
                }
                else
                {
                    value.Append(line[i]);
                }

                i++;
            }

            if (i >= line.Length)
            {
                return false;
            }

            i++; // closing quote
            labels[key] = value.ToString();
        }
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf" or "Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}

/// <summary>One cumulative bucket: how many observations were at most <paramref name="UpperBound"/>.</summary>
public sealed record HistogramBucket(double UpperBound, double Count);

/// <summary>A histogram's cumulative buckets in increasing bound order (the last is <c>+Inf</c> when the exporter wrote it).</summary>
public sealed record HistogramBuckets(IReadOnlyList<HistogramBucket> Buckets)
{
    public double Count => Buckets.Count == 0 ? 0 : Buckets[^1].Count;

    /// <summary>
    /// What was observed between <paramref name="before"/> and this scrape, bucket by bucket. A
    /// bucket that went down (the silo restarted) counts from zero.
    /// </summary>
    public HistogramBuckets Since(HistogramBuckets? before)
    {
        if (before is null)
        {
            return this;
        }

        var earlier = before.Buckets.ToDictionary(b => b.UpperBound, b => b.Count);
        return new HistogramBuckets(Buckets.Select(b =>
            earlier.TryGetValue(b.UpperBound, out var then) && then <= b.Count ? b with { Count = b.Count - then } : b).ToList());
    }

    /// <summary>Bucket-wise sum (several silos with the same bounds).</summary>
    public static HistogramBuckets? Sum(IEnumerable<HistogramBuckets?> parts)
    {
        var sum = new SortedDictionary<double, double>();
        foreach (var part in parts.OfType<HistogramBuckets>())
        {
            foreach (var bucket in part.Buckets)
            {
                sum[bucket.UpperBound] = sum.TryGetValue(bucket.UpperBound, out var before) ? before + bucket.Count : bucket.Count;
            }
        }

        return sum.Count == 0 ? null : new HistogramBuckets(sum.Select(b => new HistogramBucket(b.Key, b.Value)).ToList());
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile, interpolated linearly inside its bucket as Prometheus'
    /// <c>histogram_quantile</c> does (the first bucket starts at 0); in the <c>+Inf</c> bucket it is
    /// the largest finite bound. Null without observations.
    /// </summary>
    public double? Quantile(double q)
    {
        var count = Count;
        if (count <= 0)
        {
            return null;
        }

        var rank = q * count;
        double lower = 0, below = 0;
        foreach (var bucket in Buckets)
        {
            if (bucket.Count >= rank)
            {
                if (double.IsPositiveInfinity(bucket.UpperBound))
                {
                    return lower;
                }

                var inBucket = bucket.Count - below;
                return inBucket <= 0 ? bucket.UpperBound : lower + ((bucket.UpperBound - lower) * (rank - below) / inBucket);
            }

            lower = bucket.UpperBound;
            below = bucket.Count;
        }

        return lower;
    }

    /// <summary>The share of observations at most <paramref name="bound"/>, read at the largest bucket bound not above it; null without observations.</summary>
    public double? ShareAtMost(double bound)
    {
        var count = Count;
        if (count <= 0)
        {
            return null;
        }

        var within = Buckets.Where(b => b.UpperBound <= bound).Select(b => b.Count).DefaultIfEmpty(0).Max();
        return within / count;
    }

    /// <summary>The upper bound of the highest bucket that holds an observation (<c>+Inf</c> when one was above every bound); null without observations.</summary>
    public double? MaxBound()
    {
        var count = Count;
        return count <= 0 ? null : Buckets.First(b => b.Count >= count).UpperBound;
    }
}
