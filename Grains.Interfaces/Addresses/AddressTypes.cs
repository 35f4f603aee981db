using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Addresses;

/// <summary>R9 address statuses.</summary>
[Alias("AddressStatus")]
public enum AddressStatus
{
    Valid,
    Erroneous,
    Quarantine,
    OnDenylist,
    OnAllowlist,
}

[GenerateSerializer, Immutable, Alias("AddressRecord")]
public sealed record AddressRecord(
    [property: Id(0)] string Address,
    [property: Id(1)] AddressStatus Status,
    [property: Id(2)] int ErrorCount,
    [property: Id(3)] DateTimeOffset? LastErrorAt,
    [property: Id(4)] FailureReason? Reason)
{
    public static AddressRecord ValidAddress(string address) => new(address, AddressStatus.Valid, 0, null, null);

    /// <summary>R9.6: these addresses are left out at preparation.</summary>
    public bool IsExcluded => Status is AddressStatus.Quarantine or AddressStatus.OnDenylist;
}

[Alias("AddressEventKind")]
public enum AddressEventKind
{
    HardBounce,
    SoftBounce,
    IgnoredFailure,
    Success,
    Complaint,

    /// <summary>R9.5, R11.2: the recipient asked for no more messages (an inbound SMS STOP).</summary>
    OptOut,

    /// <summary>R13.4: the recipient unsubscribed (one-click or by mail); the address goes OnDenylist with reason Unsubscribed.</summary>
    Unsubscribe,
}

/// <summary>Something that happened to a message sent to an address, as the quarantine rules of R9 see it.</summary>
[GenerateSerializer, Immutable, Alias("AddressEvent")]
public sealed record AddressEvent(
    [property: Id(0)] string Address,
    [property: Id(1)] AddressEventKind Kind,
    [property: Id(2)] FailureReason? Reason,
    [property: Id(3)] DateTimeOffset At);

/// <summary>Address syntax and the normal form addresses are compared in (R2.2).</summary>
public static class AddressSyntax
{
    /// <summary>Email: trimmed, domain part lower-cased. SMS: trimmed, without the separators people write (<c>+1 555 000 1002</c> is <c>+15550001002</c>).</summary>
    public static string Normalize(string address, Channel channel)
    {
        var trimmed = address.Trim();
        if (channel == Channel.Sms)
        {
            return PhoneNumbers.StripSeparators(trimmed);
        }

        var at = trimmed.LastIndexOf('@');
        return at < 0 ? trimmed : string.Concat(trimmed.AsSpan(0, at + 1), trimmed[(at + 1)..].ToLowerInvariant());
    }

    /// <summary>
    /// The channel an address on its own belongs to, for callers that get an address without a
    /// delivery (the address endpoints, the Client's <c>address</c> command): a phone number
    /// starts with '+', anything else is an email address.
    /// </summary>
    public static Channel ChannelOf(string address) => address.TrimStart().StartsWith('+') ? Channel.Sms : Channel.Email;

    public static bool IsValid(string normalized, Channel channel) =>
        channel == Channel.Sms ? IsE164(normalized) : IsEmail(normalized);

    private static bool IsE164(string s)
    {
        if (s.Length is < 9 or > 16 || s[0] != '+')
        {
            return false;
        }

        foreach (var c in s.AsSpan(1))
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsEmail(string s)
    {
        var at = s.IndexOf('@');
        if (at <= 0 || at != s.LastIndexOf('@') || at == s.Length - 1 || s.Length > 254)
        {
            return false;
        }

        var domain = s.AsSpan(at + 1);
        if (domain.IndexOf('.') <= 0 || domain[^1] == '.' || domain.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '(' or ')' or '[' or ']' or '\\' or '"')
            {
                return false;
            }
        }

        return true;
    }
}
