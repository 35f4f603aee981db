using System.Text;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// Whether a text occurs (any case) in <c>head + digits(n) + tail</c>, where the digits are <c>n</c>'s decimal
/// form zero-padded to at least <c>width</c>: the shape of every generated profile id, address and phone
/// number. The text is taken apart once, into the conditions under which it can straddle the number
/// (its digits equal, start, end or occur in <c>n</c>'s); each candidate is then a few integer divisions,
/// where writing it out and searching it cost a formatted string per candidate.
/// </summary>
internal sealed class NumberedTextSearch
{
    /// <summary>The most digits a condition can ask of a non-negative int, or of any padding up to this width.</summary>
    private const int MaxDigits = 18;

    private static readonly long[] Pow10 = MakePowers();

    private readonly bool _always;
    private readonly int _width;
    private readonly Condition[] _conditions;

    private NumberedTextSearch(bool always, int width, Condition[] conditions)
    {
        _always = always;
        _width = width;
        _conditions = conditions;
    }

    /// <summary>
    /// The search of <paramref name="text"/>, or null when it cannot be made exactly: a text or fixed part that is not
    /// ASCII (where case folding is more than ASCII's), or padding wider than the digits this search follows.
    /// </summary>
    public static NumberedTextSearch? For(string head, string tail, int width, string text)
    {
        if (text.Length == 0 || !Ascii.IsValid(text) || !Ascii.IsValid(head) || !Ascii.IsValid(tail) || width > MaxDigits)
        {
            return null;
        }

        var t = text.ToLowerInvariant();
        var h = head.ToLowerInvariant();
        var b = tail.ToLowerInvariant();
        if (h.Contains(t, StringComparison.Ordinal) || b.Contains(t, StringComparison.Ordinal))
        {
            return new NumberedTextSearch(true, width, []);
        }

        // Every way the text can lie across the number: a suffix of the head (maybe empty), then digits (never
        // empty: the number always writes one), then a prefix of the tail (maybe empty).
        var conditions = new List<Condition>();
        for (var before = 0; before <= Math.Min(h.Length, t.Length - 1); before++)
        {
            if (!h.AsSpan().EndsWith(t.AsSpan(0, before), StringComparison.Ordinal))
            {
                continue;
            }

            for (var after = 0; after <= Math.Min(b.Length, t.Length - before - 1); after++)
            {
                if (!b.AsSpan().StartsWith(t.AsSpan(t.Length - after), StringComparison.Ordinal))
                {
                    continue;
                }

                var digits = t.AsSpan(before, t.Length - before - after);
                if (digits.Length > MaxDigits || digits.ContainsAnyExceptInRange('0', '9'))
                {
                    continue;
                }

                var kind = (before > 0, after > 0) switch
                {
                    (true, true) => Kind.Equals,
                    (true, false) => Kind.StartsWith,
                    (false, true) => Kind.EndsWith,
                    _ => Kind.Contains,
                };
                conditions.Add(new Condition(kind, long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), digits.Length));
            }
        }

        return new NumberedTextSearch(false, width, [.. conditions.Distinct()]);
    }

    /// <summary>Whether the text occurs in the string written for <paramref name="n"/> (not negative).</summary>
    public bool Matches(int n)
    {
        if (_always || _conditions.Length == 0)
        {
            return _always;
        }

        var length = Math.Max(_width, DigitCount(n));
        foreach (var c in _conditions)
        {
            if (c.Length > length)
            {
                continue;
            }

            var hit = c.Kind switch
            {
                Kind.Equals => c.Length == length && n == c.Value,
                Kind.StartsWith => n / Pow10[length - c.Length] == c.Value,
                Kind.EndsWith => n % Pow10[c.Length] == c.Value,
                _ => OccursIn(n, length, c),
            };
            if (hit)
            {
                return true;
            }
        }

        return false;
    }

    private static bool OccursIn(long n, int length, Condition c)
    {
        var window = Pow10[c.Length];
        for (var shift = 0; shift <= length - c.Length; shift++)
        {
            if (n % window == c.Value)
            {
                return true;
            }

            n /= 10;
        }

        return false;
    }

    private static int DigitCount(int n)
    {
        var count = 1;
        while (n >= 10)
        {
            n /= 10;
            count++;
        }

        return count;
    }

    private static long[] MakePowers()
    {
        var powers = new long[MaxDigits + 1];
        powers[0] = 1;
        for (var i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }

        return powers;
    }

    private enum Kind
    {
        Equals,
        StartsWith,
        EndsWith,
        Contains,
    }

    private readonly record struct Condition(Kind Kind, long Value, int Length);
}
