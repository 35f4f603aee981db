using DeliveryGrains.Deliveries;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>A silo without an SMTP relay (the shared cluster has none).</summary>
public sealed class NoRelayTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact, Trait("Rule", "R12.1")]
    public async Task An_SMTP_delivery_is_refused_by_a_silo_without_a_relay()
    {
        var refused = await Assert.ThrowsAsync<ValidationException>(() =>
            CreateAsync(TestData.Definition(mta: new MtaSettings(MtaKind.Smtp, Content: new MessageContent("Hi {{firstName}}", null, null)))));
        Assert.Contains("Mta:Smtp:Host", refused.Errors["mta.kind"][0]);
    }
}
