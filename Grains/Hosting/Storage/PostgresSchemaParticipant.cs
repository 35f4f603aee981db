using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Hosting.Storage;

/// <summary>
/// Runs the schema migrations at the very first stage of the silo's start, before clustering reads
/// its queries from <c>OrleansQuery</c> and before any grain reads state. A database that cannot be
/// reached stops the start with a message naming <c>ConnectionStrings:Postgres</c>.
/// </summary>
public sealed class PostgresSchemaParticipant(IOptions<PostgresStorageOptions> options, ILogger<SchemaMigrator> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaParticipant), ServiceLifecycleStage.First, MigrateAsync, _ => Task.CompletedTask);

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await new SchemaMigrator(options.Value.ConnectionString, logger).MigrateAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:Postgres: cannot prepare the PostgreSQL schema ({PostgresConnection.Describe(options.Value.ConnectionString)}): {ex.Message}", ex);
        }
    }
}
