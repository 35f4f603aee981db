namespace DeliveryGrains.Content;

/// <summary>
/// R14.5: how long an SMS is for the network. <see cref="Characters"/> counts what the segment limits
/// count: GSM-7 septets (an extension character such as '€' or '{' takes two) or, for a text GSM-7
/// cannot carry, UCS-2 code units (a character outside the BMP, such as most emoji, takes two).
/// </summary>
[GenerateSerializer, Immutable, Alias("SmsLength")]
public sealed record SmsLength(
    [property: Id(0)] int Characters,
    [property: Id(1)] int Segments,
    [property: Id(2)] string Encoding)
{
    public const string Gsm7 = "GSM-7";
    public const string Ucs2 = "UCS-2";

    /// <summary>GSM 03.38's basic character set (the escape code itself left out).</summary>
    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    /// <summary>GSM 03.38's extension table: each is sent as the escape code and one more septet.</summary>
    private const string Extension = "\f^{}\\[~]|€";

    private static readonly System.Buffers.SearchValues<char> BasicSet = System.Buffers.SearchValues.Create(Basic);
    private static readonly System.Buffers.SearchValues<char> ExtensionSet = System.Buffers.SearchValues.Create(Extension);

    /// <summary>The length of <paramref name="text"/>: 160 septets in one GSM-7 segment, 153 per segment when split; 70 and 67 in UCS-2.</summary>
    public static SmsLength Of(string? text)
    {
        text ??= "";
        var septets = 0;
        foreach (var c in text)
        {
            if (BasicSet.Contains(c))
            {
                septets++;
            }
            else if (ExtensionSet.Contains(c))
            {
                septets += 2;
            }
            else
            {
                // One character GSM-7 cannot carry sends the whole message in UCS-2.
                return Measure(text.Length, Ucs2, single: 70, split: 67);
            }
        }

        return Measure(septets, Gsm7, single: 160, split: 153);
    }

    private static SmsLength Measure(int units, string encoding, int single, int split) =>
        new(units, units == 0 ? 0 : units <= single ? 1 : (units + split - 1) / split, encoding);
}
