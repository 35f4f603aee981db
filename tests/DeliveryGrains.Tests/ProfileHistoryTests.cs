using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Profiles;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R10.1: a profile's history lists the deliveries sent to it, with the log status.</summary>
public sealed class ProfileHistoryTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R10.1")]
    public async Task A_profiles_history_lists_each_delivery_sent_to_it_with_its_log_status()
    {
        var profile = $"hist-{Unique.Id()}";
        var delivered = await StartAsync(TestData.Definition([new(profile, Unique.Email()), new("other", Unique.Email())], efs: true, name: "Spring sale"));
        var bounced = await StartAsync(TestData.Definition([new(profile, Unique.Email())], efs: true, name: "Summer sale"));
        var elsewhere = await StartAsync(TestData.Definition([new("someone-else", Unique.Email())], efs: true));
        await FeedAsync(delivered, profile, FeedbackType.Delivered);
        await FeedAsync(bounced, profile, FeedbackType.HardBounce, FailureReason.UserUnknown);

        var history = await Grains.GetGrain<IProfileHistoryGrain>(profile).GetHistoryAsync();

        Assert.Equal(2, history.Count);
        var byDelivery = history.ToDictionary(e => e.DeliveryId);
        var first = byDelivery[delivered.GetPrimaryKeyString()];
        Assert.Equal(("Spring sale", Channel.Email, LogStatus.Sent), (first.DeliveryName, first.Channel, first.Status));
        Assert.NotNull(first.RelayedAt);
        var second = byDelivery[bounced.GetPrimaryKeyString()];
        Assert.Equal(("Summer sale", LogStatus.Failed), (second.DeliveryName, second.Status));
        Assert.DoesNotContain(elsewhere.GetPrimaryKeyString(), byDelivery.Keys);
    }

    [Fact]
    [Trait("Rule", "R10.1")]
    public async Task A_profile_never_targeted_has_an_empty_history()
    {
        Assert.Empty(await Grains.GetGrain<IProfileHistoryGrain>($"nobody-{Unique.Id()}").GetHistoryAsync());
    }
}
