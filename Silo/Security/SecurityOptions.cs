using System.Globalization;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// API users (configuration section <c>Security</c>): <c>Security:Users:0:Name</c>, the key as
/// <c>…:ApiKey</c> or as its SHA-256 in hex <c>…:ApiKeySha256</c>, and <c>…:Roles:0</c>.
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    public List<ApiUser> Users { get; set; } = [];

    /// <summary>
    /// <c>/dashboard</c> and <c>/metrics</c> answer without a key while every address the HTTP host
    /// listens on is loopback; false asks for Administration or Monitoring there too.
    /// </summary>
    public bool OpenMonitoringOnLoopback { get; set; } = true;
}

public sealed class ApiUser
{
    public string Name { get; set; } = "";

    /// <summary>The key as given; prefer <see cref="ApiKeySha256"/> so the configuration never holds a key.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The SHA-256 of the key's UTF-8 bytes, 64 hex digits (e.g. <c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string ApiKeySha256 { get; set; } = "";

    public List<string> Roles { get; set; } = [];
}

/// <summary>Refuses to start with a user that could never sign in or a role that does not exist.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var failures = new List<string>();
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Users.Count; i++)
        {
            var user = options.Users[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"Security:Users:{i}");
            if (string.IsNullOrWhiteSpace(user.Name))
            {
                failures.Add($"{at}:Name is empty; give every user a name.");
            }

            var hasKey = !string.IsNullOrEmpty(user.ApiKey);
            var hasHash = !string.IsNullOrEmpty(user.ApiKeySha256);
            string? hash = null;
            if (hasKey == hasHash)
            {
                failures.Add($"{at} needs exactly one of ApiKey or ApiKeySha256 (the key's SHA-256 as 64 hex digits).");
            }
            else if (hasHash && (user.ApiKeySha256.Length != 64 || !user.ApiKeySha256.All(char.IsAsciiHexDigit)))
            {
                failures.Add($"{at}:ApiKeySha256 must be the key's SHA-256 as 64 hex digits, e.g. from `printf %s \"$KEY\" | sha256sum`.");
            }
            else
            {
                hash = hasHash ? user.ApiKeySha256 : ApiKeyDirectory.Sha256Hex(user.ApiKey);
            }

            if (hash is not null && !hashes.Add(hash))
            {
                failures.Add($"{at}'s key is used by another user; keys must be unique.");
            }

            foreach (var role in user.Roles.Where(r => !DeliveryGrains.Deliveries.Roles.All.Contains(r)))
            {
                failures.Add($"{at}:Roles holds unknown role '{role}'; use {string.Join(", ", DeliveryGrains.Deliveries.Roles.All)}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
