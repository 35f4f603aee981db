using System.Security.Cryptography;
using System.Text;
using DeliveryGrains.Deliveries;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// The configured users by key. A key is never kept as given: every user's key is held as its
/// SHA-256 (configured as <c>ApiKeySha256</c>, or hashed at start from <c>ApiKey</c>), and a presented
/// key is hashed and compared with every user's hash in constant time, so neither the time an
/// answer takes nor a memory dump tells a key.
/// </summary>
public sealed class ApiKeyDirectory
{
    private readonly IOptionsMonitor<SecurityOptions> _options;
    private (SecurityOptions Source, (byte[] Hash, Caller Caller)[] Users) _users;

    public ApiKeyDirectory(IOptionsMonitor<SecurityOptions> options)
    {
        _options = options;
        _users = (options.CurrentValue, Build(options.CurrentValue));
    }

    /// <summary>The user a key names, with the roles configured for them; null for an unknown or empty key.</summary>
    public Caller? Find(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), presented);
        return FindBySha256(presented);
    }

    /// <summary>
    /// The user whose key has this SHA-256, with the roles configured for them now; null when no user
    /// has it (any more). The console's sign-in cookie carries the hash, so a user removed or given a
    /// new key is signed out, and a change of roles applies at the next request.
    /// </summary>
    public Caller? FindBySha256(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != SHA256.HashSizeInBytes)
        {
            return null;
        }

        var current = _options.CurrentValue;
        var users = _users;
        if (!ReferenceEquals(users.Source, current))
        {
            users = _users = (current, Build(current));
        }

        Caller? found = null;
        foreach (var (userHash, caller) in users.Users)
        {
            // Every user is compared, the match or not, so the time taken does not tell which one matched.
            if (CryptographicOperations.FixedTimeEquals(userHash, hash))
            {
                found = caller;
            }
        }

        return found;
    }

    /// <summary>The SHA-256 of a key as 64 lower-case hex digits, the form <c>ApiKeySha256</c> takes.</summary>
    public static string Sha256Hex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static (byte[] Hash, Caller Caller)[] Build(SecurityOptions options) =>
    [
        .. options.Users
            .Select(u => (Hash: HashOf(u), User: u))
            .Where(u => u.Hash is not null)
            .Select(u => (u.Hash!, new Caller(u.User.Name, u.User.Roles.ToHashSet(StringComparer.Ordinal)))),
    ];

    private static byte[]? HashOf(ApiUser user)
    {
        if (!string.IsNullOrEmpty(user.ApiKeySha256))
        {
            try
            {
                var hash = Convert.FromHexString(user.ApiKeySha256);
                return hash.Length == SHA256.HashSizeInBytes ? hash : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return string.IsNullOrEmpty(user.ApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(user.ApiKey));
    }
}
