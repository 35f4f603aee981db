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
/// id, so the hit goes to its partition without a look-up) and, for a click, the link's index and
/// original URL, so the redirect needs no database read either.
/// </summary>
public sealed record TrackingClaims(TokenKind Kind, string DeliveryId, int Partition, int RecipientIndex, string ProfileId, int Link = -1, string? Url = null);

/// <summary>
/// Signed tokens: the claims in a compact binary form, then the first 16 bytes of their
/// HMAC-SHA256 under the tracking key, all in base64url. Nothing is read before the signature is
/// checked (in constant time), so a tampered, truncated or foreign token is refused without parsing
/// its content. The claims are signed, not encrypted: docs/security.md says what a token shows.
/// </summary>
public static class TrackingToken
{
    private const byte Version = 1;
    private const int MacBytes = 16;

    /// <summary>Tokens longer than this are refused before any work (a click URL is kept to what a mail client takes).</summary>
    public const int MaxLength = 4096;

    public static string Create(TrackingClaims claims, byte[] key)
    {
        using var buffer = new MemoryStream(64 + (claims.Url?.Length ?? 0));
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write((byte)claims.Kind);
            writer.Write(claims.DeliveryId);
            writer.Write7BitEncodedInt(claims.Partition);
            writer.Write7BitEncodedInt(claims.RecipientIndex);
            writer.Write(claims.ProfileId);
            if (claims.Kind == TokenKind.Click)
            {
                writer.Write7BitEncodedInt(claims.Link);
                writer.Write(claims.Url ?? "");
            }
        }

        var payload = buffer.ToArray();
        var signed = new byte[payload.Length + MacBytes];
        payload.CopyTo(signed, 0);
        HMACSHA256.HashData(key, payload).AsSpan(0, MacBytes).CopyTo(signed.AsSpan(payload.Length));
        return Base64Url.EncodeToString(signed);
    }

    /// <summary>The claims of a token signed with <paramref name="key"/> for <paramref name="kind"/>; null for anything else.</summary>
    public static TrackingClaims? Read(string? token, TokenKind kind, byte[] key)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength || !Base64Url.IsValid(token))
        {
            return null;
        }

        var signed = Base64Url.DecodeFromChars(token);
        if (signed.Length <= MacBytes + 2)
        {
            return null;
        }

        var payload = signed.AsSpan(0, signed.Length - MacBytes);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, payload, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacBytes], signed.AsSpan(signed.Length - MacBytes)))
        {
            return null;
        }

        // Signed by us: the content is ours, but it is still read defensively (a key shared with an older format).
        try
        {
            using var reader = new BinaryReader(new MemoryStream(signed, 0, payload.Length), Encoding.UTF8);
            if (reader.ReadByte() != Version || (TokenKind)reader.ReadByte() != kind)
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
}
