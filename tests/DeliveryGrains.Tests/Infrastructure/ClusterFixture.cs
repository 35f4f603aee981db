using DeliveryGrains.Hosting;
using DeliveryGrains.Mta;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace DeliveryGrains.Tests.Infrastructure;

/// <summary>
/// One in-process silo with the delivery engine on memory storage and in-memory reminders, shared by
/// every test of the "cluster" collection. The settings make the rollup fast: small partitions (so
/// multi-partition paths run) and a 100 ms flush; the tracking refresh stays at its 1 h default so
/// that R8.5 (opens and clicks move only when published) can be observed. Tests in the collection
/// run one at a time; each uses its own delivery ids, profile ids where they matter, and addresses.
/// </summary>
/// <remarks>
/// In Orleans 10 the <see cref="TestClusterBuilder.Properties"/> are added to each silo host's
/// configuration, so the options bound by <c>AddDeliveryEngine()</c> see them; the silo builder
/// configurator only adds the engine and memory mode. <see cref="ClusterConfigurationTests"/> checks it.
/// </remarks>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int PartitionSize = 16;

    /// <summary>Fewer calls in flight per partition than recipients in it, so partition-wide work runs in several waves.</summary>
    public const int RelayConcurrency = 4;

    public static readonly TimeSpan FlushPeriod = TimeSpan.FromMilliseconds(100);

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(initialSilosCount: 1);

        // TestClusterBuilder.Properties become configuration of every silo host, which is what
        // AddDeliveryEngine() binds its options from (BindConfiguration).
        builder.Properties[$"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.PartitionSize)}"] = PartitionSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties[$"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.FlushPeriod)}"] = "00:00:00.100";
        builder.Properties[$"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.TrackingRefreshPeriod)}"] = "01:00:00";
        builder.Properties[$"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.RelayConcurrency)}"] = RelayConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<DeliveryEngineSiloConfigurator>();

        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>Instantiated by the test cluster for each silo it starts.</summary>
public sealed class DeliveryEngineSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        siloBuilder.AddDeliveryEngine().UseInMemoryPersistence();
        siloBuilder.Services.AddSingleton<IMessageRelay>(sp => new RelayGate(ActivatorUtilities.CreateInstance<MtaRouter>(sp)));
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
