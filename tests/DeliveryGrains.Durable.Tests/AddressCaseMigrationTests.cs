using DeliveryGrains.Addresses;
using DeliveryGrains.Hosting.Storage;
using DeliveryGrains.Logs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// R13.7 on stored data (docs/operations.md, "Addresses written in another case"): quarantine and
/// denylist records a cluster stored before R13.7, under the address as written and in the shard that
/// form hashed to, are found in any case once a durable silo has started on them, and are stored again
/// under the folded key in the shard it belongs to.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class AddressCaseMigrationTests(PostgresServer server)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R13.7")]
    public async Task Records_stored_under_another_case_are_found_in_any_case_and_stored_folded_after_a_start()
    {
        var connectionString = await server.CreateDatabaseAsync("addresscase");
        await new SchemaMigrator(connectionString, NullLogger.Instance).MigrateAsync();

        // Chosen by construction: one record whose folded form belongs to another shard, one that stays.
        // (An ASCII letter's case never moves an address: the hash's low bits do not see bit 0x20. 'Ѐ'
        // and 'ѐ' differ in 0x50, so an address holding it lands in another of the 32 shards when folded.)
        var moving = Enumerable.Range(0, 10_000).Select(i => $"\u0400nn{i}.Moved@Example.test").First(a => OldShard(a) != AddressBook.ShardOf(a));
        var shard = OldShard(moving);
        var staying = Enumerable.Range(0, 100_000).Select(i => $"Bo{i}.Stays@Example.test").First(a => OldShard(a) == shard && AddressBook.ShardOf(a) == shard);
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var old = new AddressBookState
        {
            Records =
            {
                [moving] = new AddressRecord(moving, AddressStatus.Quarantine, 5, at, FailureReason.UserUnknown),
                [staying] = new AddressRecord(staying, AddressStatus.OnDenylist, 0, at, FailureReason.Denylisted),
            },
        };
        await using (var storage = Storage(connectionString, out var serializerServices))
        {
            await storage.WriteStateAsync("addresses", ShardId(shard), new GrainState<AddressBookState>(old));
            await serializerServices.DisposeAsync();
        }

        await using var host = await DurableHost.StartAsync(connectionString);
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        IAddressBookGrain Book(string address) => grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address));

        foreach (var asked in new[] { moving.ToLowerInvariant(), moving.ToUpperInvariant() })
        {
            var read = await Book(asked).GetAsync(asked);
            Assert.Equal((AddressStatus.Quarantine, 5, asked), (read.Status, read.ErrorCount, read.Address));
        }

        var excluded = await Book(staying.ToLowerInvariant()).FindExcludedAsync([staying.ToLowerInvariant()]);
        Assert.Equal(AddressStatus.OnDenylist, Assert.Single(excluded).Status);

        await using var after = Storage(connectionString, out var services);
        var stored = new GrainState<AddressBookState>(new AddressBookState());
        await after.ReadStateAsync("addresses", ShardId(shard), stored);
        var moved = new GrainState<AddressBookState>(new AddressBookState());
        await after.ReadStateAsync("addresses", ShardId(AddressBook.ShardOf(moving)), moved);
        await services.DisposeAsync();
        Assert.Equal([staying.ToLowerInvariant()], stored.State!.Records.Keys);
        Assert.Equal(AddressStatus.Quarantine, moved.State!.Records[moving.ToLowerInvariant()].Status);
    }

    /// <summary>The shard an address was kept in before R13.7: the hash of the address as written.</summary>
    private static int OldShard(string address) => StableHash.Bucket(address, AddressBook.ShardCount);

    private static GrainId ShardId(int shard) =>
        GrainId.Create(GrainType.Create("address-book"), GrainIdKeyExtensions.CreateIntegerKey(shard));

    private static PostgresGrainStorage Storage(string connectionString, out ServiceProvider services)
    {
        services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(AddressBookState).Assembly)).BuildServiceProvider();
        return new PostgresGrainStorage(
            Options.Create(new PostgresStorageOptions { ConnectionString = connectionString }),
            Options.Create(new ClusterOptions { ServiceId = DurableHost.ServiceId }),
            services.GetRequiredService<Serializer>(),
            NullLogger<PostgresGrainStorage>.Instance);
    }
}
