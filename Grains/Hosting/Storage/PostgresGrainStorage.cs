using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace DeliveryGrains.Hosting.Storage;

/// <summary>
/// Durable mode's grain storage: one row of <c>grain_state</c> per grain and state name, the state in
/// Orleans' binary serialization, the row's version as the ETag (a write names the version it read;
/// a stale one raises <see cref="InconsistentStateException"/>). A state that is an
/// <see cref="IChunkedState"/> keeps a small head there and the rest in <c>grain_chunk</c> rows; its
/// write carries only the chunks that changed since this activation last read or wrote them.
/// <para>
/// Writes use group commit: every <see cref="WriteStateAsync{T}"/> queues its row and a single
/// writer stores all the rows waiting at that moment in one multi-row statement (one transaction,
/// one WAL flush), then completes each caller with its own verdict. While a statement runs, the next
/// batch gathers, so the batch grows with the load and a lone write costs one round trip. A grain's
/// write completes only once its row is committed.
/// </para>
/// <para>
/// Reads are grouped the same way (a few reader loops, each reading every row asked for meanwhile in
/// one statement): a delivery that activates thousands of logs a second reads their rows in
/// thousands of rows per round trip, not one.
/// </para>
/// </summary>
public sealed partial class PostgresGrainStorage : IGrainStorage, IAsyncDisposable
{
    private const int ReadLoops = 4;

    // A chunked state (chunks not null) comes with its chunk rows, read in the same statement so the
    // head and the chunks are of one snapshot.
    private const string ReadSql = """
        SELECT i.ord, g.version, g.payload, g.chunks, c.payloads
        FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS i(state_name, grain_id, ord)
        JOIN grain_state g ON g.service_id = $1 AND g.state_name = i.state_name AND g.grain_id = i.grain_id
        LEFT JOIN LATERAL (
            SELECT array_agg(k.payload ORDER BY k.chunk) AS payloads
            FROM grain_chunk k
            WHERE k.service_id = $1 AND k.state_name = g.state_name AND k.grain_id = g.grain_id AND k.chunk < g.chunks
        ) c ON g.chunks IS NOT NULL
        """;

    // One statement for the whole batch: the rows that name a version update it only if it still
    // matches; the rows that name none insert only if no row exists. A row that comes back is stored;
    // one that does not lost a race (stale ETag) and its caller gets InconsistentStateException.
    // A chunked state's changed chunks are stored only with a head row that was: the version check
    // guards the chunks too, and the statement makes the head and its chunks one atomic write.
    private const string WriteSql = """
        WITH input AS (
            SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::integer[])
                WITH ORDINALITY AS t(state_name, grain_id, expected, payload, chunks, ord)),
        updated AS (
            UPDATE grain_state g SET version = g.version + 1, payload = i.payload, chunks = i.chunks, written_at = now()
            FROM input i
            WHERE i.expected IS NOT NULL AND g.service_id = $1
              AND g.state_name = i.state_name AND g.grain_id = i.grain_id AND g.version = i.expected
            RETURNING i.ord, g.version),
        inserted AS (
            INSERT INTO grain_state (service_id, state_name, grain_id, version, payload, chunks)
            SELECT $1, i.state_name, i.grain_id, 1, i.payload, i.chunks FROM input i
            WHERE i.expected IS NULL
            ORDER BY i.state_name, i.grain_id
            ON CONFLICT DO NOTHING
            RETURNING state_name, grain_id, version),
        stored AS (
            SELECT ord, version FROM updated
            UNION ALL
            SELECT i.ord, n.version FROM inserted n
            JOIN input i ON i.expected IS NULL AND i.state_name = n.state_name AND i.grain_id = n.grain_id),
        chunked AS (
            INSERT INTO grain_chunk (service_id, state_name, grain_id, chunk, payload)
            SELECT $1, i.state_name, i.grain_id, c.chunk, c.payload
            FROM unnest($7::bigint[], $8::integer[], $9::bytea[]) AS c(ord, chunk, payload)
            JOIN stored s ON s.ord = c.ord
            JOIN input i ON i.ord = c.ord
            ORDER BY i.state_name, i.grain_id, c.chunk
            ON CONFLICT (service_id, state_name, grain_id, chunk) DO UPDATE SET payload = EXCLUDED.payload)
        SELECT ord, version FROM stored
        """;

    private const string ClearSql = """
        WITH cleared AS (
            UPDATE grain_state SET version = version + 1, payload = NULL, chunks = NULL, written_at = now()
            WHERE service_id = $1 AND state_name = $2 AND grain_id = $3 AND version = $4
            RETURNING version),
        dropped AS (
            DELETE FROM grain_chunk
            WHERE service_id = $1 AND state_name = $2 AND grain_id = $3 AND EXISTS (SELECT 1 FROM cleared))
        SELECT version FROM cleared
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Serializer _serializer;
    private readonly ILogger<PostgresGrainStorage> _logger;
    private readonly string _serviceId;
    private readonly int _maxBatch;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly Channel<PendingRead> _reads = Channel.CreateUnbounded<PendingRead>();
    private readonly Task[] _readers;
    private long _statements;
    private long _rows;
    private long _chunkRows;
    private long _chunkBytes;

    private readonly DeliveryMetrics? _metrics;

    public PostgresGrainStorage(
        IOptions<PostgresStorageOptions> options, IOptions<ClusterOptions> cluster, Serializer serializer, ILogger<PostgresGrainStorage> logger, DeliveryMetrics? metrics = null)
    {
        _metrics = metrics;
        _dataSource = NpgsqlDataSource.Create(PostgresConnection.WithPoolCap(options.Value.ConnectionString, options.Value.MaxConnections));
        _serializer = serializer;
        _logger = logger;
        _serviceId = cluster.Value.ServiceId;
        _maxBatch = options.Value.MaxBatchSize;
        _writer = Task.Run(WriteLoopAsync);
        _readers = [.. Enumerable.Range(0, ReadLoops).Select(_ => Task.Run(ReadLoopAsync))];
    }

    /// <summary>Write statements executed so far (each stores a whole batch).</summary>
    public long WriteStatements => Interlocked.Read(ref _statements);

    /// <summary>Rows those statements carried.</summary>
    public long RowsWritten => Interlocked.Read(ref _rows);

    /// <summary>Chunk rows (<see cref="IChunkedState"/>) those statements carried besides.</summary>
    public long ChunkRowsWritten => Interlocked.Read(ref _chunkRows);

    /// <summary>The bytes of those chunk rows.</summary>
    public long ChunkBytesWritten => Interlocked.Read(ref _chunkBytes);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var (version, payload, chunks, chunkPayloads) = await ReadRowAsync(stateName, grainId);
        if (version is null)
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.ETag = version.Value.ToString(CultureInfo.InvariantCulture);
        if (payload is null)
        {
            grainState.RecordExists = false;
            grainState.State = Activator.CreateInstance<T>();
            return;
        }

        if (chunks is null)
        {
            // A whole value; also how a chunked state's rows written before chunking read (migrated by its next write).
            grainState.State = _serializer.Deserialize<T>(payload);
        }
        else
        {
            var state = Activator.CreateInstance<T>();
            if (state is not IChunkedState chunked)
            {
                throw new InvalidOperationException($"The state {stateName} of {grainId} is stored in chunks, which {typeof(T).Name} cannot read.");
            }

            ChunkedWrite.Assemble(chunked, _serializer.Deserialize<object>(payload) ?? throw new InvalidOperationException($"The state {stateName} of {grainId} has an empty head."), chunkPayloads ?? []);
            grainState.State = state;
        }

        grainState.RecordExists = true;
    }

    private Task<StoredRow> ReadRowAsync(string stateName, GrainId grainId)
    {
        var read = new PendingRead(stateName, grainId.ToString());
        if (!_reads.Writer.TryWrite(read))
        {
            throw new ObjectDisposedException(nameof(PostgresGrainStorage), "The grain storage is shutting down.");
        }

        return read.Completion.Task;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var expected = ParseETag(grainState.ETag);
        var chunkedState = grainState.State as IChunkedState;
        var chunked = chunkedState is null ? null : ChunkedWrite.Capture(chunkedState);
        var write = chunked is null
            ? new PendingWrite(stateName, grainId.ToString(), expected, _serializer.SerializeToArray(grainState.State), null, [])
            : new PendingWrite(stateName, grainId.ToString(), expected, _serializer.SerializeToArray(chunked.Head), chunked.ChunkCount, chunked.Changed);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(PostgresGrainStorage), "The grain storage is shutting down.");
        }

        var queuedAt = Stopwatch.GetTimestamp();
        long? version;
        try
        {
            version = await write.Completion.Task;
        }
        catch
        {
            // Stored or not, nobody knows: the next write stores every chunk.
            chunkedState?.Baseline.Forget();
            throw;
        }

        _metrics?.StorageWrite(Stopwatch.GetElapsedTime(queuedAt));
        if (version is null)
        {
            chunkedState?.Baseline.Forget();
            throw Inconsistent(grainState.ETag);
        }

        if (chunked is not null)
        {
            chunked.Stored(chunkedState!);
        }

        grainState.ETag = version.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is not null)
        {
            await using var command = _dataSource.CreateCommand(ClearSql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.ToString() });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ParseETag(grainState.ETag)!.Value });
            var version = await command.ExecuteScalarAsync();
            if (version is not long stored)
            {
                throw Inconsistent(grainState.ETag);
            }

            grainState.ETag = stored.ToString(CultureInfo.InvariantCulture);
        }

        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _reads.Writer.TryComplete();
        await _writer;
        await Task.WhenAll(_readers);
        await _dataSource.DisposeAsync();
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingWrite>(_maxBatch);
        var keys = new HashSet<(string, string)>();
        var deferred = new Queue<PendingWrite>();
        while (deferred.Count > 0 || await reader.WaitToReadAsync())
        {
            // A row appears once per statement; a second write of the same grain (two activations
            // racing) waits for the next statement, so each verdict is about one version.
            for (var i = deferred.Count; i > 0 && batch.Count < _maxBatch; i--)
            {
                var write = deferred.Dequeue();
                if (keys.Add((write.StateName, write.GrainId)))
                {
                    batch.Add(write);
                }
                else
                {
                    deferred.Enqueue(write);
                }
            }

            while (batch.Count < _maxBatch && reader.TryRead(out var write))
            {
                if (keys.Add((write.StateName, write.GrainId)))
                {
                    batch.Add(write);
                }
                else
                {
                    deferred.Enqueue(write);
                }
            }

            if (batch.Count > 0)
            {
                await StoreAsync(batch);
            }

            batch.Clear();
            keys.Clear();
        }
    }

    private async Task ReadLoopAsync()
    {
        var reader = _reads.Reader;
        var batch = new List<PendingRead>(_maxBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatch && reader.TryRead(out var read))
            {
                batch.Add(read);
            }

            if (batch.Count > 0)
            {
                await LoadAsync(batch);
            }

            batch.Clear();
        }
    }

    private async Task LoadAsync(List<PendingRead> batch)
    {
        try
        {
            var rows = new StoredRow[batch.Count];
            await using (var command = _dataSource.CreateCommand(ReadSql))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. batch.Select(r => r.StateName)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. batch.Select(r => r.GrainId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    rows[reader.GetInt64(0) - 1] = new StoredRow(
                        reader.GetInt64(1),
                        reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                        reader.IsDBNull(3) ? null : reader.GetInt32(3),
                        reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[][]>(4));
                }
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(rows[i]);
            }
        }
        catch (Exception ex)
        {
            LogReadFailed(ex, batch.Count);
            foreach (var read in batch)
            {
                read.Completion.TrySetException(ex);
            }
        }
    }

    private async Task StoreAsync(List<PendingWrite> batch)
    {
        var names = new string[batch.Count];
        var ids = new string[batch.Count];
        var expected = new long?[batch.Count];
        var payloads = new byte[batch.Count][];
        var chunkCounts = new int?[batch.Count];
        var chunkOrds = new List<long>();
        var chunkIndices = new List<int>();
        var chunkPayloads = new List<byte[]>();
        long chunkBytes = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            (names[i], ids[i], expected[i], payloads[i], chunkCounts[i]) = (batch[i].StateName, batch[i].GrainId, batch[i].Expected, batch[i].Payload, batch[i].ChunkCount);
            foreach (var (chunk, bytes) in batch[i].Chunks)
            {
                chunkOrds.Add(i + 1);
                chunkIndices.Add(chunk);
                chunkPayloads.Add(bytes);
                chunkBytes += bytes.Length;
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var stored = new long?[batch.Count];
                await using (var command = _dataSource.CreateCommand(WriteSql))
                {
                    command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
                    command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                    command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                    command.Parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = expected, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                    command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = payloads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
                    command.Parameters.Add(new NpgsqlParameter<int?[]> { TypedValue = chunkCounts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
                    command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. chunkOrds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                    command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. chunkIndices], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
                    command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. chunkPayloads], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        stored[reader.GetInt64(0) - 1] = reader.GetInt64(1);
                    }
                }

                Interlocked.Increment(ref _statements);
                Interlocked.Add(ref _rows, batch.Count);
                Interlocked.Add(ref _chunkRows, chunkOrds.Count);
                Interlocked.Add(ref _chunkBytes, chunkBytes);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(stored[i]);
                }

                return;
            }
            catch (PostgresException ex) when (attempt < 3 && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // The statement is atomic: nothing of it was stored, so running it again is safe.
                LogRetry(ex.SqlState, batch.Count);
            }
            catch (Exception ex)
            {
                LogBatchFailed(ex, batch.Count);
                foreach (var write in batch)
                {
                    write.Completion.TrySetException(ex);
                }

                return;
            }
        }
    }

    private static long? ParseETag(string? etag) =>
        etag is null ? null
        : long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version
        : throw Inconsistent(etag);

    private static InconsistentStateException Inconsistent(string? expected) =>
        new($"The stored version is not the one this activation read ({expected ?? "none"}).", "unknown", expected ?? "none");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grain state batch of {Count} rows hit {SqlState}; running it again.")]
    private partial void LogRetry(string sqlState, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain state batch of {Count} rows failed.")]
    private partial void LogBatchFailed(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain state read of {Count} rows failed.")]
    private partial void LogReadFailed(Exception exception, int count);

    /// <summary>A row as read: nothing (no version), a cleared state (no payload), a whole value, or a head and its chunks.</summary>
    private readonly record struct StoredRow(long? Version, byte[]? Payload, int? Chunks, byte[][]? ChunkPayloads);

    private sealed record PendingRead(string StateName, string GrainId)
    {
        public TaskCompletionSource<StoredRow> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record PendingWrite(string StateName, string GrainId, long? Expected, byte[] Payload, int? ChunkCount, IReadOnlyList<(int Chunk, byte[] Bytes)> Chunks)
    {
        public TaskCompletionSource<long?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
