using Microsoft.Extensions.Options;
using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Client.Hosting;

/// <summary>Where the silo's gateway is (configuration section <c>Orleans</c>), checked by <see cref="OrleansConnectionOptionsValidator"/>.</summary>
public sealed class OrleansConnectionOptions
{
    public const string Section = "Orleans";

    public static readonly TimeSpan MinConnectTimeout = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxConnectTimeout = TimeSpan.FromMinutes(10);

    public int GatewayPort { get; set; } = 30000;

    public string ClusterId { get; set; } = "delivery-grains";

    public string ServiceId { get; set; } = "delivery-grains";

    /// <summary>How long the client tries to reach the gateway before it gives up.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Every bad connection setting at once, each named by its configuration key and what it must hold.</summary>
public sealed class OrleansConnectionOptionsValidator : IValidateOptions<OrleansConnectionOptions>
{
    public ValidateOptionsResult Validate(string? name, OrleansConnectionOptions options)
    {
        var failures = new List<string>();
        if (options.GatewayPort is < 1 or > 65535)
        {
            failures.Add($"Orleans:GatewayPort is {options.GatewayPort}; give the silo's gateway port, 1 to 65535 (--gateway-port, Orleans__GatewayPort).");
        }

        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            failures.Add("Orleans:ClusterId is empty; give the silos' cluster id (default delivery-grains).");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add("Orleans:ServiceId is empty; give the silos' service id (default delivery-grains).");
        }

        if (options.ConnectTimeout < OrleansConnectionOptions.MinConnectTimeout || options.ConnectTimeout > OrleansConnectionOptions.MaxConnectTimeout)
        {
            failures.Add($"Orleans:ConnectTimeout is {options.ConnectTimeout:c}; give 00:00:00.100 to 00:10:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The user the client acts as (configuration section <c>Client</c>).</summary>
public sealed class ClientIdentityOptions : IValidatableObject
{
    public const string Section = "Client";

    [Required(AllowEmptyStrings = false)]
    public string User { get; set; } = "operator";

    /// <summary>
    /// The roles the user holds; all four when not configured. Read from <c>Client:Roles</c> as a list
    /// (<c>Client__Roles__0=StartDeliveries</c>) or as one comma-separated value (<c>Client__Roles=A,B</c>).
    /// </summary>
    public IReadOnlyList<string> Roles { get; set; } = DeliveryGrains.Deliveries.Roles.All;

    public Deliveries.Caller ToCaller() => new(User, new HashSet<string>(Roles, StringComparer.Ordinal));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var role in Roles.Where(r => !DeliveryGrains.Deliveries.Roles.All.Contains(r)))
        {
            yield return new ValidationResult(
                $"Client:Roles holds '{role}', which is not a role; use {string.Join(", ", DeliveryGrains.Deliveries.Roles.All)}.",
                [nameof(Roles)]);
        }
    }
}

/// <summary>How target files are read: <c>Client:DefaultCountryCode</c>, the country calling code of SMS numbers written without one.</summary>
public sealed record TargetDefaults(string? DefaultCountryCode)
{
    public const string Key = "Client:DefaultCountryCode";

    public static readonly TargetDefaults None = new((string?)null);
}
