using System.Globalization;
using System.Text;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>Which sending log (and attempt) an SMTP identity names.</summary>
public readonly record struct LogIdentity(string DeliveryId, string ProfileId, int? Attempt);

/// <summary>
/// The identities that let a later report find its log (R12.1): the VERP envelope sender
/// <c>bounces+{delivery}.{profile}@{bounce domain}</c> and the Message-ID
/// <c>{delivery}.{profile}.{attempt}@{bounce domain}</c>. A profile id is written with every
/// character outside letters, digits, '-' and '_' as '=' and two hex digits per UTF-8 byte, so both
/// are valid dot-atoms (RFC 5322) and read back exactly; delivery ids never hold a '.'.
/// </summary>
public static class MessageIdentity
{
    public const string VerpPrefix = "bounces+";

    public static string EnvelopeSender(string deliveryId, string profileId, string bounceDomain) =>
        $"{VerpPrefix}{deliveryId}.{Encode(profileId)}@{bounceDomain}";

    public static string MessageId(string deliveryId, string profileId, int attempt, string bounceDomain) =>
        $"{deliveryId}.{Encode(profileId)}.{attempt.ToString(CultureInfo.InvariantCulture)}@{bounceDomain}";

    public static string Unsubscribe(string deliveryId, string profileId, string bounceDomain) =>
        $"{UnsubscribePrefix}{deliveryId}.{Encode(profileId)}@{bounceDomain}";

    public const string UnsubscribePrefix = "unsubscribe+";

    /// <summary>R13.4: the log an unsubscribe address (<see cref="Unsubscribe"/>) names, or null when it is not one.</summary>
    public static LogIdentity? FromUnsubscribeAddress(string? address)
    {
        var local = address is null ? null : LocalPart(address.Trim().Trim('<', '>'));
        if (local is null || !local.StartsWith(UnsubscribePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = local[UnsubscribePrefix.Length..];
        var dot = rest.IndexOf('.');
        return dot <= 0 || dot == rest.Length - 1 || Decode(rest[(dot + 1)..]) is not { } profile
            ? null
            : new LogIdentity(rest[..dot], profile, null);
    }

    /// <summary>The log a VERP address names, or null when it is not one of ours.</summary>
    public static LogIdentity? FromEnvelopeSender(string? address)
    {
        if (address is null)
        {
            return null;
        }

        var local = LocalPart(address.Trim().Trim('<', '>'));
        if (local is null || !local.StartsWith(VerpPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = local[VerpPrefix.Length..];
        var dot = rest.IndexOf('.');
        if (dot <= 0 || dot == rest.Length - 1)
        {
            return null;
        }

        return Decode(rest[(dot + 1)..]) is { } profile ? new LogIdentity(rest[..dot], profile, null) : null;
    }

    /// <summary>The log and attempt a Message-ID names, or null when it is not one of ours.</summary>
    public static LogIdentity? FromMessageId(string? messageId)
    {
        if (messageId is null)
        {
            return null;
        }

        var local = LocalPart(messageId.Trim().Trim('<', '>'));
        if (local is null)
        {
            return null;
        }

        var first = local.IndexOf('.');
        var last = local.LastIndexOf('.');
        if (first <= 0 || last <= first + 1
            || !int.TryParse(local.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) || attempt < 1)
        {
            return null;
        }

        return Decode(local[(first + 1)..last]) is { } profile ? new LogIdentity(local[..first], profile, attempt) : null;
    }

    /// <summary>Whether <paramref name="value"/> is a plausible domain name (labels of letters, digits and '-').</summary>
    public static bool IsDomain(string value) =>
        value.Length is > 0 and <= 253
        && value.Split('.').All(label => label.Length is > 0 and <= 63
            && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && label[0] != '-' && label[^1] != '-');

    /// <summary>The domain of an address, lower-cased (the pool and rate key).</summary>
    public static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? "" : address[(at + 1)..].ToLowerInvariant();
    }

    internal static string Encode(string profileId)
    {
        var plain = true;
        foreach (var c in profileId)
        {
            plain &= IsPlain(c);
        }

        if (plain)
        {
            return profileId;
        }

        var sb = new StringBuilder(profileId.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(profileId))
        {
            if (b < 128 && IsPlain((char)b))
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('=').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    internal static string? Decode(string encoded)
    {
        if (encoded.Length == 0)
        {
            return null;
        }

        if (!encoded.Contains('='))
        {
            return encoded.All(IsPlain) ? encoded : null;
        }

        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '=')
            {
                if (i + 2 >= encoded.Length
                    || !byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return null;
                }

                bytes.Add(b);
                i += 2;
            }
            else if (IsPlain(c))
            {
                bytes.Add((byte)c);
            }
            else
            {
                return null;
            }
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool IsPlain(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private static string? LocalPart(string address)
    {
        var at = address.LastIndexOf('@');
        return at <= 0 ? null : address[..at];
    }
}
