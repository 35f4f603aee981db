using System.Globalization;
using DeliveryGrains.Hosting;
using DeliveryGrains.Mta;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace DeliveryGrains.Tests.Scenarios;

/// <summary>
/// A silo whose simulated MTA runs on <see cref="Clock"/>, a clock that only moves when a test says
/// so: a scenario's minute (its caps) ends on command, so what a capped domain accepts in a minute is
/// fixed by construction, never by how fast this machine is.
/// </summary>
public sealed class ScenarioClusterFixture : IAsyncLifetime
{
    /// <summary>One silo per process runs this fixture, so the clock its configurator hands over can be shared this way.</summary>
    public static ManualClock Clock { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>The simulator's queue limit here, small enough for a test to fill while the clock stands.</summary>
    public const int SimulatorMaxQueued = 100;

    public TestCluster Cluster { get; private set; } = null!;

    /// <summary>The silo's simulated MTA (the silo runs in this process).</summary>
    public SimulatedMta Simulator => ((InProcessSiloHandle)Cluster.Primary!).SiloHost.Services.GetRequiredService<SimulatedMta>();

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(initialSilosCount: 1);
        builder.Properties[$"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.PartitionSize)}"] = 16.ToString(CultureInfo.InvariantCulture);
        builder.Properties[$"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.FlushPeriod)}"] = "00:00:00.100";
        builder.Properties[$"{MtaOptions.Section}:{nameof(MtaOptions.SimulatorMaxQueued)}"] = SimulatorMaxQueued.ToString(CultureInfo.InvariantCulture);
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<ScenarioSiloConfigurator>();
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

/// <summary>The engine in memory mode, its simulator on the fixture's manual clock (registered first, so the engine keeps it).</summary>
public sealed class ScenarioSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        siloBuilder.Services.AddSingleton(new SimulatorClock(ScenarioClusterFixture.Clock));
        siloBuilder.AddDeliveryEngine().UseInMemoryPersistence();
    }
}

/// <summary>A clock that stands still until <see cref="Advance"/>; its timers are the system's (only its "now" is manual).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Runs alone, after the parallel collections, so its silo takes no CPU from the shared cluster's time-bounded waits.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScenarioCollection : ICollectionFixture<ScenarioClusterFixture>
{
    public const string Name = "scenario";
}
