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

/// <summary>
/// Who the client is (configuration section <c>Client</c>): the API key of a user configured on the
/// silo (<c>Client:ApiKey</c>, <c>Client__ApiKey</c>). Every grain call carries it; the silo finds the
/// user it names and acts with that user's roles, so the client asserts neither a name nor roles.
/// </summary>
public sealed class ClientIdentityOptions
{
    public const string Section = "Client";

    public string? ApiKey { get; set; }

    /// <summary>
    /// The <see cref="Deliveries.Caller"/> the commands hand to the grains. The silo replaces it with the
    /// user the key names before any grain sees it; its roles only let the commands ask, and the silo
    /// answers a missing role with a refusal that names it (R1.1).
    /// </summary>
    public static Deliveries.Caller ToCaller() => new("client", new HashSet<string>(DeliveryGrains.Deliveries.Roles.All, StringComparer.Ordinal));
}

/// <summary>How target files are read: <c>Client:DefaultCountryCode</c>, the country calling code of SMS numbers written without one.</summary>
public sealed record TargetDefaults(string? DefaultCountryCode)
{
    public const string Key = "Client:DefaultCountryCode";

    public static readonly TargetDefaults None = new((string?)null);
}
