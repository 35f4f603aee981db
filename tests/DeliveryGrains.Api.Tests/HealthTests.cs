using System.Net;

namespace DeliveryGrains.Api.Tests;

/// <summary>The probes a load balancer or Kubernetes uses: answered without a key, saying which check decides.</summary>
[Collection(ApiCollection.Name)]
public sealed class HealthTests(ApiHostFixture host)
{
    [Fact]
    [Trait("Area", "Operations")]
    public async Task Live_answers_200_without_a_key()
    {
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };

        var live = await anonymous.GetAsync("/health/live").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("Healthy", live.GetProperty("status").GetString());
    }

    [Fact]
    [Trait("Area", "Operations")]
    public async Task Ready_answers_200_while_the_silo_is_an_active_member_and_not_stopping()
    {
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };

        var ready = await anonymous.GetAsync("/health/ready").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        var checks = ready.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("cluster").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("shutdown").GetProperty("status").GetString());
    }
}
