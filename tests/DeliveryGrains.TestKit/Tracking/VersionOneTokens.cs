using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace DeliveryGrains.TestKit.Tracking;

/// <summary>
/// Tracking tokens as version 1 wrote them (BinaryWriter fields, then the first 16 bytes of the
/// HMAC-SHA256): the form of the links in mail sent before version 2, which must keep working.
/// </summary>
public static class VersionOneTokens
{
    /// <summary>A version 1 token; <paramref name="link"/> is given for a click only, which then carries its URL.</summary>
    public static string Create(byte kind, string deliveryId, int partition, int recipientIndex, string profileId, int? link, string? url, byte[] key)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)1);
            writer.Write(kind);
            writer.Write(deliveryId);
            writer.Write7BitEncodedInt(partition);
            writer.Write7BitEncodedInt(recipientIndex);
            writer.Write(profileId);
            if (link is { } index)
            {
                writer.Write7BitEncodedInt(index);
                writer.Write(url ?? "");
            }
        }

        var payload = buffer.ToArray();
        return Base64Url.EncodeToString([.. payload, .. HMACSHA256.HashData(key, payload).AsSpan(0, 16)]);
    }
}
