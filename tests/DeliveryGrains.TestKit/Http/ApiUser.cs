using System.Security.Cryptography;
using System.Text;

namespace DeliveryGrains.TestKit.Http;

/// <summary>A user of the HTTP API as the silo's <c>Security:Users</c> configures it: a name, an API key and roles.</summary>
/// <param name="KeyAsSha256">Configure only the SHA-256 of the key (<c>ApiKeySha256</c>), never the key itself.</param>
public sealed record ApiUser(string Name, string Key, IReadOnlyList<string> Roles, bool KeyAsSha256 = false)
{
    /// <summary>Every role a person can hold: prepare, start, administer, post MTA feedback.</summary>
    public static readonly IReadOnlyList<string> AllRoles = ["PrepareDeliveries", "StartDeliveries", "Administration", "MtaFeedback"];

    /// <summary>The <c>admin</c> user, holding <see cref="AllRoles"/>.</summary>
    public static ApiUser Administrator(string key) => new("admin", key, AllRoles);

    /// <summary>
    /// The <c>Security:Users</c> settings of <paramref name="users"/>, in configuration form
    /// (<c>Security:Users:0:Name</c>) or, with <paramref name="separator"/> <c>__</c>, in environment form.
    /// </summary>
    public static Dictionary<string, string?> Settings(IReadOnlyList<ApiUser> users, string separator = ":")
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < users.Count; i++)
        {
            var prefix = string.Join(separator, "Security", "Users", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var user = users[i];
            settings[prefix + separator + "Name"] = user.Name;
            if (user.KeyAsSha256)
            {
                settings[prefix + separator + "ApiKeySha256"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(user.Key)));
            }
            else
            {
                settings[prefix + separator + "ApiKey"] = user.Key;
            }

            for (var r = 0; r < user.Roles.Count; r++)
            {
                settings[prefix + separator + "Roles" + separator + r.ToString(System.Globalization.CultureInfo.InvariantCulture)] = user.Roles[r];
            }
        }

        return settings;
    }
}
