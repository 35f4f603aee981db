using System.Reflection;
using DeliveryGrains.Hosting.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Configuration;

namespace DeliveryGrains.Durable.Tests;

[Collection(DurableCollection.Name)]
public sealed class MigrationTests(PostgresServer server)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "Schema is versioned and idempotent")]
    public async Task Migrations_apply_once_then_running_them_again_changes_nothing()
    {
        var connectionString = await server.CreateDatabaseAsync("migrate_twice");

        var first = await Migrator(connectionString).MigrateAsync();
        var second = await Migrator(connectionString).MigrateAsync();

        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), first);
        Assert.Empty(second);
        Assert.Equal(SchemaMigrator.Migrations.Count, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM schema_version"));
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "Two silos starting together migrate once")]
    public async Task Silos_migrating_at_the_same_time_apply_each_version_exactly_once()
    {
        var connectionString = await server.CreateDatabaseAsync("migrate_together");

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Migrator(connectionString).MigrateAsync())));

        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), runs.SelectMany(r => r).Order());
        Assert.Equal(SchemaMigrator.Migrations.Count, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM schema_version"));
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "OrleansQuery answers the ADO.NET providers' contract")]
    public async Task OrleansQuery_holds_every_query_the_clustering_and_reminder_providers_require()
    {
        var connectionString = await server.CreateDatabaseAsync("orleans_query");
        await Migrator(connectionString).MigrateAsync();

        var stored = new HashSet<string>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT QueryKey FROM OrleansQuery", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }

        // The providers list their required keys as the properties of their internal DbStoredQueries.
        var required = new[]
            {
                typeof(AdoNetClusteringSiloOptions).Assembly.GetType("Orleans.Clustering.AdoNet.Storage.DbStoredQueries", throwOnError: true)!,
                typeof(AdoNetReminderTableOptions).Assembly.GetType("Orleans.Reminders.AdoNet.Storage.DbStoredQueries", throwOnError: true)!,
            }
            .SelectMany(t => t.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic).Select(p => p.Name))
            .ToHashSet();
        Assert.NotEmpty(required);
        Assert.Subset(stored, required);
    }

    private static SchemaMigrator Migrator(string connectionString) => new(connectionString, NullLogger.Instance);

    internal static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
