namespace DeliveryGrains.Addresses;

/// <summary>
/// Phone numbers as people write them, put in E.164 (<c>+</c>, country code, number): the
/// separators people use are dropped (<c>+1 (555) 000-1002</c>, <c>+33 6.12.34.56.78</c>), and
/// with a default country code a national number (<c>06 12 34 56 78</c>) loses its trunk prefix
/// <c>0</c> and gains the country code; <c>00</c> is the international call prefix.
/// </summary>
public static class PhoneNumbers
{
    /// <summary>The characters people put between digits: spaces, dots, dashes, slashes, parentheses.</summary>
    public static bool IsSeparator(char c) => c is ' ' or '.' or '-' or '/' or '(' or ')' or '\u00A0' or '\t';

    /// <summary>The number without separators; unchanged apart from that when it has letters or other signs.</summary>
    public static string StripSeparators(string written)
    {
        var trimmed = written.Trim();
        return trimmed.Any(IsSeparator) ? string.Concat(trimmed.Where(c => !IsSeparator(c))) : trimmed;
    }

    /// <summary>
    /// E.164 when it can be read as one: separators dropped; with <paramref name="defaultCountryCode"/>
    /// ("33", "+1"), <c>00…</c> becomes <c>+…</c> and a national number gets the country code in
    /// place of its trunk prefix <c>0</c>. Anything else comes back without its separators (and
    /// preparation excludes it as InvalidAddress).
    /// </summary>
    public static string ToE164(string written, string? defaultCountryCode)
    {
        var number = StripSeparators(written);
        if (number.StartsWith('+') || defaultCountryCode is null || number.Length == 0 || !number.All(char.IsAsciiDigit))
        {
            return number;
        }

        if (number.StartsWith("00", StringComparison.Ordinal))
        {
            return "+" + number[2..];
        }

        var country = defaultCountryCode.Trim().TrimStart('+');
        return "+" + country + (number.StartsWith('0') ? number[1..] : number);
    }

    /// <summary>True for a number written without its country code (digits and separators, no '+').</summary>
    public static bool IsNational(string? written) =>
        written is { Length: > 0 } && !written.TrimStart().StartsWith('+') && written.Any(char.IsAsciiDigit) && written.All(c => char.IsAsciiDigit(c) || IsSeparator(c));

    /// <summary>True for a country calling code: 1 to 3 digits, optionally after '+'.</summary>
    public static bool IsCountryCode(string? code) =>
        code?.Trim().TrimStart('+') is { Length: >= 1 and <= 3 } digits && digits.All(char.IsAsciiDigit) && digits[0] != '0';
}
