using DeliveryGrains.Hosting;
using DeliveryGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Tests;

/// <summary>The test silo runs with the settings the other tests rely on.</summary>
public sealed class ClusterConfigurationTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R8.5")]
    public void Silo_options_come_from_the_test_configuration()
    {
        var options = Cluster.GetSiloServiceProvider().GetRequiredService<IOptions<DeliveryEngineOptions>>().Value;

        Assert.Equal(ClusterFixture.PartitionSize, options.PartitionSize);
        Assert.Equal(ClusterFixture.FlushPeriod, options.FlushPeriod);
        Assert.Equal(TimeSpan.FromHours(1), options.TrackingRefreshPeriod);
    }
}
