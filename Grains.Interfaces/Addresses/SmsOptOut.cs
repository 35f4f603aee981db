namespace DeliveryGrains.Addresses;

/// <summary>R11.2: which inbound SMS texts are an opt-out (a STOP).</summary>
public static class SmsOptOut
{
    /// <summary>
    /// The standard English opt-out keywords: the CTIA short-code guidelines that US carriers
    /// enforce ask senders to honour STOP and these variants, and SMS aggregators treat the same
    /// six as STOP by default (Twilio's long-standing opt-out list, for one). Recipients use them
    /// interchangeably, so honouring only "STOP" would keep texting people who already said no.
    /// </summary>
    public static readonly IReadOnlySet<string> Keywords =
        new HashSet<string>(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// True when the whole text, trimmed, is one of the <see cref="Keywords"/> in any case. A
    /// keyword inside a longer text ("don't stop", "stop it please") is no opt-out, as carriers
    /// read it: only an unambiguous reply puts the number on the denylist.
    /// </summary>
    public static bool IsOptOut(string? text) => text is not null && Keywords.Contains(text.Trim());
}
