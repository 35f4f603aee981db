using Npgsql;

namespace DeliveryGrains.Hosting.Storage;

/// <summary>Checks of the durable mode's connection string (<c>ConnectionStrings:Postgres</c>).</summary>
public static class PostgresConnection
{
    public const string ConfigurationKey = "ConnectionStrings:Postgres";

    /// <summary>Null when <paramref name="connectionString"/> is usable, else why not (naming the key).</summary>
    public static string? Problem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return $"{ConfigurationKey} is required when DeliveryGrains:Storage is Postgres (e.g. \"Host=127.0.0.1;Port=5432;Database=deliverygrains;Username=postgres\").";
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? $"{ConfigurationKey} names no Host." : null;
        }
        catch (ArgumentException ex)
        {
            return $"{ConfigurationKey} is not a valid Npgsql connection string: {ex.Message}";
        }
    }

    /// <summary>
    /// The connection string with its pool capped at <paramref name="cap"/> connections (or the
    /// string's own smaller maximum). Each user of the database (grain storage, reminders, clustering)
    /// has its own pool; uncapped, their default of 100 each exceeds PostgreSQL's default
    /// max_connections (100) under load. A caller over the cap waits for a free connection.
    /// </summary>
    public static string WithPoolCap(string connectionString, int cap)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxPoolSize = Math.Min(builder.MaxPoolSize, cap);
        builder.MinPoolSize = Math.Min(builder.MinPoolSize, builder.MaxPoolSize);
        return builder.ConnectionString;
    }

    /// <summary>Host, port and database, never the password.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
