using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Silo.Hosting;

/// <summary>Cluster identity and ports (configuration section <c>Orleans</c>), so several silos can share a machine.</summary>
public sealed class OrleansHostingOptions
{
    public const string Section = "Orleans";

    [Required]
    public string ClusterId { get; set; } = "delivery-grains";

    [Required]
    public string ServiceId { get; set; } = "delivery-grains";

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address the silo advertises to other silos and clients in durable mode (e.g. 127.0.0.1
    /// for several silos on one machine); unset, Orleans picks the machine's first non-loopback address.
    /// </summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>
    /// Where new activations go: Orleans' default (<see cref="PlacementMode.ResourceOptimized"/>),
    /// <see cref="PlacementMode.Random"/>, or <see cref="PlacementMode.Hash"/> (a stable hash of the
    /// grain id over the active silos, so a cluster's grains spread over every silo whatever the load).
    /// </summary>
    public PlacementMode Placement { get; set; } = PlacementMode.ResourceOptimized;

    /// <summary>
    /// The address the gateway (where Orleans clients connect) listens on; unset, loopback only, so
    /// no other machine reaches it. Set it (e.g. 0.0.0.0) only on a private network, see docs/security.md.
    /// </summary>
    public string? GatewayListenAddress { get; set; }

    /// <summary>
    /// Running as a Kubernetes pod (deploy/kubernetes): Orleans' Kubernetes hosting takes the cluster and
    /// service ids and the advertised address from the pod (<c>ORLEANS_CLUSTER_ID</c>, <c>ORLEANS_SERVICE_ID</c>,
    /// <c>POD_NAME</c>, <c>POD_NAMESPACE</c>, <c>POD_IP</c>) and deletes the pods of silos declared dead.
    /// </summary>
    public bool Kubernetes { get; set; }
}

/// <summary>The default placement of grains (<c>Orleans:Placement</c>).</summary>
public enum PlacementMode
{
    ResourceOptimized,
    Random,
    Hash,
}

/// <summary>Where state lives (<c>DeliveryGrains:Storage</c>).</summary>
public enum StorageMode
{
    Memory,

    /// <summary>PostgreSQL, grain state through the project's group-commit storage.</summary>
    Postgres,

    /// <summary>PostgreSQL, grain state through the stock Orleans ADO.NET provider (one statement per write).</summary>
    AdoNet,
}
