using System.Diagnostics;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

[Collection(DurableCollection.Name)]
public sealed class GrainStorageTests(PostgresServer server, ITestOutputHelper output) : IAsyncLifetime
{
    private const string ServiceId = "storage-tests";

    private ServiceProvider _services = null!;
    private PostgresGrainStorage _storage = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await server.CreateDatabaseAsync("storage");
        await new SchemaMigrator(_connectionString, NullLogger.Instance).MigrateAsync();
        _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        _storage = NewStorage();
    }

    private PostgresGrainStorage NewStorage() => new(
        Options.Create(new PostgresStorageOptions { ConnectionString = _connectionString }),
        Options.Create(new ClusterOptions { ServiceId = ServiceId }),
        _services.GetRequiredService<Serializer>(),
        NullLogger<PostgresGrainStorage>.Instance);

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "State round-trips through PostgreSQL")]
    public async Task A_written_state_reads_back_equal_with_its_version_as_ETag()
    {
        var grain = NewGrain();
        var written = new GrainState<List<string>>(["a", "b"]);

        await _storage.WriteStateAsync("state", grain, written);
        written.State!.Add("c");
        await _storage.WriteStateAsync("state", grain, written);
        var read = new GrainState<List<string>>([]);
        await _storage.ReadStateAsync("state", grain, read);

        Assert.Equal("2", written.ETag);
        Assert.Equal(["a", "b", "c"], read.State);
        Assert.Equal("2", read.ETag);
        Assert.True(read.RecordExists);

        var missing = new GrainState<List<string>>([]);
        await _storage.ReadStateAsync("state", NewGrain(), missing);
        Assert.False(missing.RecordExists);
        Assert.Null(missing.ETag);
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    public async Task Many_reads_at_once_are_grouped_and_each_answers_its_own_state_or_nothing()
    {
        var stored = Enumerable.Range(0, 2_500).Select(_ => NewGrain()).ToList();
        await Task.WhenAll(stored.Select((grain, i) => _storage.WriteStateAsync("survey", grain, new GrainState<List<string>>([$"s{i}"]))));
        var cleared = new GrainState<List<string>>([]);
        await _storage.ReadStateAsync("survey", stored[7], cleared);
        await _storage.ClearStateAsync("survey", stored[7], cleared);
        var asked = stored.Take(1_000).Append(NewGrain()).Concat(stored.Skip(1_000)).ToList();

        var states = await ReadEachAsync("survey", asked);

        Assert.Equal(asked.Count, states.Length);
        Assert.Null(states[7]);
        Assert.Null(states[1_000]);
        for (var i = 0; i < stored.Count; i++)
        {
            if (i != 7)
            {
                Assert.Equal([$"s{i}"], states[i < 1_000 ? i : i + 1]);
            }
        }

        // The same rows under another state name are someone else's: nothing comes back.
        Assert.All(await ReadEachAsync("other", stored.Take(10).ToList()), Assert.Null);
    }

    /// <summary>Reads every grain's state at once (the storage groups them into few statements); null where nothing is stored.</summary>
    private Task<List<string>?[]> ReadEachAsync(string stateName, IReadOnlyList<GrainId> grains) =>
        Task.WhenAll(grains.Select(async grain =>
        {
            var state = new GrainState<List<string>>([]);
            await _storage.ReadStateAsync(stateName, grain, state);
            return state.RecordExists ? state.State : null;
        }));

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "Optimistic concurrency: a stale ETag is rejected")]
    public async Task A_write_naming_a_stale_version_throws_InconsistentStateException_and_stores_nothing()
    {
        var grain = NewGrain();
        await _storage.WriteStateAsync("state", grain, new GrainState<int>(1));
        var first = new GrainState<int>();
        var second = new GrainState<int>();
        await _storage.ReadStateAsync("state", grain, first);
        await _storage.ReadStateAsync("state", grain, second);

        first.State = 2;
        await _storage.WriteStateAsync("state", grain, first);
        second.State = 3;
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("state", grain, second));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("state", grain, new GrainState<int>(4)));

        var read = new GrainState<int>();
        await _storage.ReadStateAsync("state", grain, read);
        Assert.Equal(2, read.State);
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "A cleared state keeps counting versions")]
    public async Task A_cleared_state_reads_as_missing_and_can_be_written_again_with_its_ETag()
    {
        var grain = NewGrain();
        var state = new GrainState<int>(7);
        await _storage.WriteStateAsync("state", grain, state);

        await _storage.ClearStateAsync("state", grain, state);
        var read = new GrainState<int>();
        await _storage.ReadStateAsync("state", grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State);

        read.State = 8;
        await _storage.WriteStateAsync("state", grain, read);
        Assert.Equal("3", read.ETag);
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "Group commit: concurrent writes share statements")]
    public async Task Concurrent_writes_from_many_grains_are_stored_in_fewer_statements_than_writes()
    {
        // DG_WRITES scales the run into a throughput check (README's durable section has the command).
        var grains = int.TryParse(Environment.GetEnvironmentVariable("DG_WRITES"), out var n) && n > 0 ? n : 2_000;
        var states = Enumerable.Range(0, grains).Select(i => (Grain: NewGrain(), State: new GrainState<int>(i))).ToArray();
        var statements = _storage.WriteStatements;
        var rows = _storage.RowsWritten;

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(states.Select(s => Task.Run(() => _storage.WriteStateAsync("state", s.Grain, s.State))));
        var inserted = clock.Elapsed;
        await Task.WhenAll(states.Select(s => Task.Run(() => _storage.WriteStateAsync("state", s.Grain, s.State))));
        clock.Stop();
        var updated = clock.Elapsed - inserted;

        var used = _storage.WriteStatements - statements;
        Assert.Equal(2 * grains, _storage.RowsWritten - rows);
        Assert.True(used < 2 * grains / 10, $"{used} statements for {2 * grains} writes");
        Assert.All(states, s => Assert.Equal("2", s.State.ETag));
        output.WriteLine($"{2 * grains} writes in {used} statements: {grains} new rows at {grains / inserted.TotalSeconds:F0}/s, {grains} updates at {grains / updated.TotalSeconds:F0}/s");
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R4")]
    public async Task A_partitions_progress_is_written_in_chunks_only_where_it_changed_and_a_new_storage_reads_back_the_same()
    {
        var grain = NewGrain();
        var written = new GrainState<PartitionProgress>(Progress(3 * PartitionProgress.ChunkSize));
        await _storage.WriteStateAsync("progress", grain, written);
        Assert.Equal(3, await ChunkRowsAsync(grain));

        var chunks = _storage.ChunkRowsWritten;
        var slot = written.State!.Slot(PartitionProgress.ChunkSize + 1);
        slot.Attempts = 4;
        written.State!.Put(PartitionProgress.ChunkSize + 1, slot);
        written.State!.RelayCursor = 99;
        await _storage.WriteStateAsync("progress", grain, written);
        Assert.Equal(1, _storage.ChunkRowsWritten - chunks);
        await _storage.WriteStateAsync("progress", grain, written);
        Assert.Equal(1, _storage.ChunkRowsWritten - chunks);

        // A storage that never saw the grain (a restarted silo) assembles the head and every chunk.
        await using var restarted = NewStorage();
        var read = new GrainState<PartitionProgress>(new PartitionProgress());
        await restarted.ReadStateAsync("progress", grain, read);
        Assert.Equal("3", read.ETag);
        AssertSameLogs(written.State, read.State);
        Assert.Equal(99, read.State!.RelayCursor);
        Assert.Equal(4, read.State!.Slot(PartitionProgress.ChunkSize + 1).Attempts);
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "Optimistic concurrency: a stale ETag is rejected")]
    public async Task A_stale_chunked_write_stores_neither_its_head_nor_its_chunks()
    {
        var grain = NewGrain();
        await _storage.WriteStateAsync("progress", grain, new GrainState<PartitionProgress>(Progress(2 * PartitionProgress.ChunkSize)));
        var first = new GrainState<PartitionProgress>(new PartitionProgress());
        var second = new GrainState<PartitionProgress>(new PartitionProgress());
        await _storage.ReadStateAsync("progress", grain, first);
        await _storage.ReadStateAsync("progress", grain, second);

        first.State!.Attempts[0] = 1;
        await _storage.WriteStateAsync("progress", grain, first);
        second.State!.Attempts[0] = 2;
        second.State!.Attempts[PartitionProgress.ChunkSize] = 2;
        second.State!.RelayCursor = 7;
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("progress", grain, second));

        var read = new GrainState<PartitionProgress>(new PartitionProgress());
        await _storage.ReadStateAsync("progress", grain, read);
        Assert.Equal(1, read.State!.Attempts[0]);
        Assert.Equal(0, read.State!.Attempts[PartitionProgress.ChunkSize]);
        Assert.Equal(0, read.State!.RelayCursor);

        // Cleared, the chunk rows go with the head; written again, the state is whole from chunk 0.
        await _storage.ClearStateAsync("progress", grain, read);
        Assert.Equal(0, await ChunkRowsAsync(grain));
        read.State = Progress(PartitionProgress.ChunkSize + 1);
        await _storage.WriteStateAsync("progress", grain, read);
        Assert.Equal(2, await ChunkRowsAsync(grain));
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R4")]
    public async Task A_progress_row_written_whole_before_chunking_reads_back_and_is_chunked_by_its_next_write()
    {
        var grain = NewGrain();
        var old = Progress(PartitionProgress.ChunkSize + 10);
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO grain_state (service_id, state_name, grain_id, version, payload) VALUES ($1, 'progress', $2, 5, $3)", connection);
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ServiceId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.ToString() });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = _services.GetRequiredService<Serializer>().SerializeToArray(old) });
            await insert.ExecuteNonQueryAsync();
        }

        var read = new GrainState<PartitionProgress>(new PartitionProgress());
        await _storage.ReadStateAsync("progress", grain, read);
        AssertSameLogs(old, read.State);
        Assert.Equal("5", read.ETag);

        await _storage.WriteStateAsync("progress", grain, read);
        Assert.Equal(2, await ChunkRowsAsync(grain));
        var again = new GrainState<PartitionProgress>(new PartitionProgress());
        await _storage.ReadStateAsync("progress", grain, again);
        AssertSameLogs(old, again.State);
        Assert.Equal("6", again.ETag);
    }

    /// <summary>A slice of <paramref name="count"/> recipients whose columns differ from one recipient to the next.</summary>
    private static PartitionProgress Progress(int count)
    {
        var progress = new PartitionProgress();
        progress.Reset(count);
        for (var i = 0; i < count; i++)
        {
            progress.Marks[i] = (byte)(i % 4);
            progress.RelayedAt[i] = 638_000_000_000_000_000 + i;
            progress.SeenSimulated[i] = (uint)i;
        }

        progress.TryAddSeen(count - 1, "external-1");
        progress.Version = 42;
        return progress;
    }

    private static void AssertSameLogs(PartitionProgress expected, PartitionProgress? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Marks, actual.Marks);
        Assert.Equal(expected.Attempts, actual.Attempts);
        Assert.Equal(expected.RelayedAt, actual.RelayedAt);
        Assert.Equal(expected.SeenSimulated, actual.SeenSimulated);
        Assert.Equal(expected.SeenOther.Keys, actual.SeenOther.Keys);
        Assert.Equal(expected.Version, actual.Version);
    }

    private async Task<long> ChunkRowsAsync(GrainId grain)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM grain_chunk WHERE service_id = $1 AND grain_id = $2", connection);
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ServiceId });
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.ToString() });
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static GrainId NewGrain() => GrainId.Create("storagetest", Guid.NewGuid().ToString("N"));
}
