using System.Net;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// <c>DeliveryGrains:Storage=AdoNet</c>: the stock Orleans ADO.NET provider on the statements of the
/// project's migration 0004 keeps the provider's contract (versions as ETags, stale writes refused).
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class AdoNetStorageTests(PostgresServer server) : IAsyncLifetime
{
    private DurableHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await DurableHost.StartAsync(await server.CreateDatabaseAsync("adonet"), new Dictionary<string, string?> { ["DeliveryGrains:Storage"] = "AdoNet" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private IGrainStorage Storage => _host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Deliveries);

    private static GrainId NewGrain() => GrainId.Create("adonet-test", Guid.NewGuid().ToString("N"));

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "State round-trips through PostgreSQL")]
    public async Task The_stock_provider_writes_reads_and_refuses_a_stale_version()
    {
        Assert.Equal("AdoNetGrainStorage", Storage.GetType().Name);
        var grain = NewGrain();
        var first = new GrainState<List<string>>(["a"]);
        await Storage.WriteStateAsync("state", grain, first);
        first.State!.Add("b");
        await Storage.WriteStateAsync("state", grain, first);
        Assert.Equal("2", first.ETag);

        var read = new GrainState<List<string>>([]);
        await Storage.ReadStateAsync("state", grain, read);
        Assert.Equal(["a", "b"], read.State);
        Assert.Equal("2", read.ETag);
        Assert.True(read.RecordExists);

        // Another activation holding an older version, or none, cannot overwrite it.
        var stale = new GrainState<List<string>>(["stale"]) { ETag = "1" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("state", grain, stale));
        var fresh = new GrainState<List<string>>(["fresh"]);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("state", grain, fresh));

        // A clear keeps guarding the version: the clearing activation may write again, a stale one not.
        await Storage.ClearStateAsync("state", grain, read);
        Assert.Equal("3", read.ETag);
        var cleared = new GrainState<List<string>>(["x"]);
        await Storage.ReadStateAsync("state", grain, cleared);
        Assert.Empty(cleared.State!);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("state", grain, first));
        read.State = ["c"];
        await Storage.WriteStateAsync("state", grain, read);
        Assert.Equal("4", read.ETag);

        var missing = new GrainState<List<string>>([]);
        await Storage.ReadStateAsync("state", NewGrain(), missing);
        Assert.False(missing.RecordExists);
        Assert.Null(missing.ETag);
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    public async Task A_delivery_runs_on_the_stock_provider_with_its_logs_stored_there()
    {
        using var admin = _host.Admin();
        var id = await admin.StartAsync(Bodies.Delivery(20));
        await admin.UntilAsync(id, v => v.Kpi("sent") == 20);
        await admin.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(id, "p-3", "HardBounce", "UserUnknown") }).ExpectAsync(HttpStatusCode.Accepted);
        await admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1);
        var recount = await admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        var kpis = recount.TryGetProperty("kpis", out var inner) ? inner : recount;
        Assert.Equal(20, kpis.GetProperty("sent").GetInt64());
        Assert.Equal(1, kpis.GetProperty("bouncesAndErrors").GetInt64());

        // The logs live in their partition's stored columns: find p-3's slice, then its slot.
        for (var p = 0; ; p++)
        {
            var partitionId = GrainId.Create("delivery-partition", GrainKeys.Partition(id, p));
            var slice = new GrainState<PartitionState>(new PartitionState());
            await Storage.ReadStateAsync("partition", partitionId, slice);
            Assert.True(slice.RecordExists, "p-3 is in no stored partition");
            var index = slice.State!.Recipients.FindIndex(r => r.ProfileId == "p-3");
            if (index < 0)
            {
                continue;
            }

            var logs = new GrainState<PartitionProgress>(new PartitionProgress());
            await Storage.ReadStateAsync(DeliveryPartitionGrain.ProgressStateName, partitionId, logs);
            Assert.True(logs.RecordExists);
            Assert.Equal(LogPhase.Failed, logs.State!.Slot(index).Phase);
            Assert.Equal(FailureType.Hard, logs.State.Slot(index).FailureType);
            break;
        }
    }
}
