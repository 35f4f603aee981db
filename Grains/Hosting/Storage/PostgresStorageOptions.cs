using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Hosting.Storage;

/// <summary>Durable mode's grain storage (set by <see cref="SiloBuilderExtensions.UsePostgresPersistence"/>).</summary>
public sealed class PostgresStorageOptions
{
    /// <summary>Npgsql connection string (<c>ConnectionStrings:Postgres</c>).</summary>
    [Required]
    public string ConnectionString { get; set; } = "";

    /// <summary>Most connections the grain storage holds (reads, and the one writer); capped below the connection string's own maximum.</summary>
    [Range(2, 1_000)]
    public int MaxConnections { get; set; } = 32;

    /// <summary>Most rows one group-commit statement writes; waiting writes beyond it go in the next one.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 1_000;
}
