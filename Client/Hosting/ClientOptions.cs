using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Client.Hosting;

/// <summary>Where the silo's gateway is (configuration section <c>Orleans</c>).</summary>
public sealed class OrleansConnectionOptions
{
    public const string Section = "Orleans";

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    [Required(AllowEmptyStrings = false)]
    public string ClusterId { get; set; } = "delivery-grains";

    [Required(AllowEmptyStrings = false)]
    public string ServiceId { get; set; } = "delivery-grains";

    /// <summary>How long the client tries to reach the gateway before it gives up.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
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
