using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.Security;

/// <summary>API users (configuration section <c>Security</c>): <c>Security:Users:0:Name</c>, <c>…:ApiKey</c>, <c>…:Roles:0</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    public List<ApiUser> Users { get; set; } = [];
}

public sealed class ApiUser
{
    public string Name { get; set; } = "";
    public string ApiKey { get; set; } = "";
    public List<string> Roles { get; set; } = [];
}

/// <summary>Refuses to start with a user that could never sign in or a role that does not exist.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var failures = new List<string>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Users.Count; i++)
        {
            var user = options.Users[i];
            var at = $"Security:Users:{i}";
            if (string.IsNullOrWhiteSpace(user.Name))
            {
                failures.Add($"{at}:Name is empty; give every user a name.");
            }

            if (string.IsNullOrWhiteSpace(user.ApiKey))
            {
                failures.Add($"{at}:ApiKey is empty; give every user a key.");
            }
            else if (!keys.Add(user.ApiKey))
            {
                failures.Add($"{at}:ApiKey is used by another user; keys must be unique.");
            }

            foreach (var role in user.Roles.Where(r => !DeliveryGrains.Deliveries.Roles.All.Contains(r)))
            {
                failures.Add($"{at}:Roles holds unknown role '{role}'; use {string.Join(", ", DeliveryGrains.Deliveries.Roles.All)}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
