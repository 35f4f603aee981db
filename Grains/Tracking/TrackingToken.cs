using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace DeliveryGrains.Tracking;

/// <summary>What a token lets its bearer do.</summary>
public enum TokenKind : byte
{
    Open = 1,
    Click = 2,
    Unsubscribe = 3,
    MirrorPage = 4,
}

/// <summary>
/// What a signed token names (R13.1): the delivery, the log (partition, recipient index and profile
/// id, so the hit goes to its partition without a look-up) and, for a click, the link's index and,
/// when the link's address is personalised, its original URL. A link whose address is fixed in the
/// content has no <see cref="Url"/>: the redirect reads it from the delivery's link table
/// (<see cref="DeliveryLinkTable"/>) by its index.
/// </summary>
public sealed record TrackingClaims(TokenKind Kind, string DeliveryId, int Partition, int RecipientIndex, string ProfileId, int Link = -1, string? Url = null);

/// <summary>
/// Signed tokens: the claims in a compact binary form, then the first 16 bytes of their
/// HMAC-SHA256 under the tracking key, all in base64url. Nothing is read before the signature is
/// checked (in constant time), so a tampered, truncated or foreign token is refused without parsing
/// its content. The claims are signed, not encrypted: docs/security.md says what a token shows.
/// </summary>
/// <remarks>
/// Version 2 (written now): version, kind with flags, the delivery id (16 bytes when it is a GUID in
/// its 32-hex-digit form, as every id the engine makes is; its UTF-8 otherwise), partition, recipient
/// index, profile id, and for a click the link's index and only when personalised its URL. Version 1
/// (read only, so mail already sent keeps working) wrote the id as text and every click's URL.
/// A click URL is most of a tracked message's growth, so every byte here is paid ~100 times a message.
/// </remarks>
public static class TrackingToken
{
    private const byte Version1 = 1;
    private const byte Version2 = 2;
    private const int MacBytes = 16;

    /// <summary>Version 2's second byte: the kind in the low nibble, these flags in the high one.</summary>
    private const byte GuidId = 0x10, HasUrl = 0x20, KindMask = 0x0F;

    /// <summary>Tokens up to this many bytes are made and read on the stack.</summary>
    private const int StackBytes = 512;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Tokens longer than this are refused before any work (a click URL is kept to what a mail client takes).</summary>
    public const int MaxLength = 4096;

    public static string Create(TrackingClaims claims, byte[] key)
    {
        var guid = IsGuidId(claims.DeliveryId, out var id);
        var click = claims.Kind == TokenKind.Click;
        var url = click ? claims.Url : null;
        var length = 2
            + (guid ? 16 : VarLength(Encoding.UTF8.GetByteCount(claims.DeliveryId)))
            + VarIntLength(claims.Partition) + VarIntLength(claims.RecipientIndex)
            + VarLength(Encoding.UTF8.GetByteCount(claims.ProfileId))
            + (click ? VarIntLength(claims.Link) : 0)
            + (url is null ? 0 : VarLength(Encoding.UTF8.GetByteCount(url)));
        Span<byte> signed = length + MacBytes <= StackBytes ? stackalloc byte[length + MacBytes] : new byte[length + MacBytes];
        signed[0] = Version2;
        signed[1] = (byte)((byte)claims.Kind | (guid ? GuidId : 0) | (url is null ? 0 : HasUrl));
        var at = 2;
        if (guid)
        {
            id.TryWriteBytes(signed.Slice(at, 16));
            at += 16;
        }
        else
        {
            at += WriteString(signed[at..], claims.DeliveryId);
        }

        at += WriteVarInt(signed[at..], claims.Partition);
        at += WriteVarInt(signed[at..], claims.RecipientIndex);
        at += WriteString(signed[at..], claims.ProfileId);
        if (click)
        {
            at += WriteVarInt(signed[at..], claims.Link);
            if (url is not null)
            {
                at += WriteString(signed[at..], url);
            }
        }

        Mac(key, signed[..at], signed[at..]);
        return Base64Url.EncodeToString(signed);
    }

    /// <summary>The claims of a token signed with <paramref name="key"/> for <paramref name="kind"/>; null for anything else.</summary>
    public static TrackingClaims? Read(string? token, TokenKind kind, byte[] key)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength || !Base64Url.IsValid(token, out var decodedLength))
        {
            return null;
        }

        Span<byte> signed = decodedLength <= StackBytes ? stackalloc byte[decodedLength] : new byte[decodedLength];
        if (Base64Url.DecodeFromChars(token, signed, out _, out var written) != System.Buffers.OperationStatus.Done || written != decodedLength
            || written <= MacBytes + 2)
        {
            return null;
        }

        var payload = signed[..(written - MacBytes)];
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, payload, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacBytes], signed[payload.Length..written]))
        {
            return null;
        }

        // Signed by us: the content is ours, but it is still read defensively (a key shared with an older format).
        return payload[0] switch
        {
            Version2 => ReadVersion2(payload, kind),
            Version1 => ReadVersion1(payload.ToArray(), kind),
            _ => null,
        };
    }

    private static TrackingClaims? ReadVersion2(ReadOnlySpan<byte> payload, TokenKind kind)
    {
        var flags = payload[1];
        if ((TokenKind)(flags & KindMask) != kind || (flags & ~(KindMask | GuidId | HasUrl)) != 0
            || ((flags & HasUrl) != 0 && kind != TokenKind.Click))
        {
            return null;
        }

        var at = 2;
        string deliveryId;
        if ((flags & GuidId) != 0)
        {
            if (payload.Length < at + 16)
            {
                return null;
            }

            deliveryId = new Guid(payload.Slice(at, 16)).ToString("N");
            at += 16;
        }
        else if (!TryReadString(payload, ref at, out deliveryId))
        {
            return null;
        }

        if (!TryReadVarInt(payload, ref at, out var partition) || !TryReadVarInt(payload, ref at, out var index)
            || !TryReadString(payload, ref at, out var profileId))
        {
            return null;
        }

        var link = -1;
        string? url = null;
        if (kind == TokenKind.Click
            && (!TryReadVarInt(payload, ref at, out link) || ((flags & HasUrl) != 0 && !TryReadString(payload, ref at, out url))))
        {
            return null;
        }

        return at == payload.Length ? new TrackingClaims(kind, deliveryId, partition, index, profileId, link, url) : null;
    }

    /// <summary>Version 1, as tokens in mail sent before version 2 hold it: the delivery id as text and every click's URL.</summary>
    private static TrackingClaims? ReadVersion1(byte[] payload, TokenKind kind)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(payload, writable: false), Encoding.UTF8);
            if (reader.ReadByte() != Version1 || (TokenKind)reader.ReadByte() != kind)
            {
                return null;
            }

            var deliveryId = reader.ReadString();
            var partition = reader.Read7BitEncodedInt();
            var index = reader.Read7BitEncodedInt();
            var profileId = reader.ReadString();
            var link = -1;
            string? url = null;
            if (kind == TokenKind.Click)
            {
                link = reader.Read7BitEncodedInt();
                url = reader.ReadString();
            }

            return reader.BaseStream.Position == payload.Length
                ? new TrackingClaims(kind, deliveryId, partition, index, profileId, link, url)
                : null;
        }
        catch (Exception ex) when (ex is EndOfStreamException or FormatException or IOException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="deliveryId"/> is exactly a GUID's lower-case 32-digit form, so 16 bytes give it back.</summary>
    private static bool IsGuidId(string deliveryId, out Guid id) =>
        Guid.TryParseExact(deliveryId, "N", out id) && !deliveryId.AsSpan().ContainsAnyInRange('A', 'F');

    private static void Mac(byte[] key, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, payload, mac);
        mac[..MacBytes].CopyTo(destination);
    }

    private static int VarIntLength(int value)
    {
        var length = 1;
        for (var v = (uint)value; v >= 0x80; v >>= 7)
        {
            length++;
        }

        return length;
    }

    private static int VarLength(int bytes) => VarIntLength(bytes) + bytes;

    /// <summary>Seven bits a byte, low first, as <see cref="BinaryWriter.Write7BitEncodedInt"/> writes them.</summary>
    private static int WriteVarInt(Span<byte> destination, int value)
    {
        var v = (uint)value;
        var at = 0;
        while (v >= 0x80)
        {
            destination[at++] = (byte)(v | 0x80);
            v >>= 7;
        }

        destination[at++] = (byte)v;
        return at;
    }

    private static int WriteString(Span<byte> destination, string value)
    {
        var at = WriteVarInt(destination, Encoding.UTF8.GetByteCount(value));
        return at + Encoding.UTF8.GetBytes(value, destination[at..]);
    }

    private static bool TryReadVarInt(ReadOnlySpan<byte> payload, ref int at, out int value)
    {
        uint v = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (at >= payload.Length)
            {
                break;
            }

            var b = payload[at++];
            v |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                value = (int)v;
                return value >= 0;
            }
        }

        value = 0;
        return false;
    }

    private static bool TryReadString(ReadOnlySpan<byte> payload, ref int at, out string value)
    {
        value = "";
        if (!TryReadVarInt(payload, ref at, out var length) || length < 0 || length > payload.Length - at)
        {
            return false;
        }

        try
        {
            value = Strict.GetString(payload.Slice(at, length));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        at += length;
        return true;
    }
}
