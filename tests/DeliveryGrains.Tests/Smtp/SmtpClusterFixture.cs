using System.Globalization;
using DeliveryGrains.Hosting;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Tests.Infrastructure;
using Orleans.TestingHost;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>
/// A silo whose SMTP relay points at a <see cref="ScriptedSmtpServer"/> on a port the OS chose, with
/// short deferral delays so a test sees several tries of a deferred message in well under a second.
/// <see cref="ThrottledDomain"/> answers 421 past 100 messages per (server) second.
/// </summary>
public sealed class SmtpClusterFixture : IAsyncLifetime
{
    public const string ThrottledDomain = "slow.test";
    public const string BounceDomain = "bounces.test";
    public const int RateCapPerMinute = 60_000;

    public ScriptedSmtpServer Server { get; } = new([ThrottledDomain]);

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.StartAsync();
        var builder = new TestClusterBuilder(initialSilosCount: 1);
        void Set(string key, object value) => builder.Properties[key] = Convert.ToString(value, CultureInfo.InvariantCulture)!;
        Set($"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.PartitionSize)}", 64);
        Set($"{DeliveryEngineOptions.Section}:{nameof(DeliveryEngineOptions.FlushPeriod)}", "00:00:00.100");
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.Host)}", "127.0.0.1");
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.Port)}", Server.Port);
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.StartTls)}", nameof(StartTlsMode.None));
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.From)}", "News <news@sender.test>");
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.BounceDomain)}", BounceDomain);
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.ConnectionsPerDomain)}", 4);
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.RateCapPerMinute)}", RateCapPerMinute);
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.MinRatePerMinute)}", 600);
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.DeferralDelay)}", "00:00:00.020");
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.MaxDeferralDelay)}", "00:00:00.200");
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.ProbeInterval)}", "00:00:00.050");
        // The lowest queue a domain may have: the 2,000-recipient test's domains take 500 each, so its
        // partitions wait for room in their queues and must still see every message through.
        Set($"{SmtpOptions.Section}:{nameof(SmtpOptions.MaxQueuedPerDomain)}", 100);
        Set($"{InboundOptions.Section}:{nameof(InboundOptions.Port)}", 0);
        Set($"{InboundOptions.Section}:{nameof(InboundOptions.Address)}", "127.0.0.1");
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

        await Server.DisposeAsync();
    }
}

/// <summary>
/// Runs alone, after the parallel collections: its 2,000-recipient run and second silo would
/// otherwise take CPU from the shared cluster's time-bounded waits on a two-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SmtpCollection : ICollectionFixture<SmtpClusterFixture>
{
    public const string Name = "smtp";
}
