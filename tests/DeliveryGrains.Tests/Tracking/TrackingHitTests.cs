using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;
using DeliveryGrains.Tracking;

namespace DeliveryGrains.Tests.Tracking;

/// <summary>R13.2, R13.3 at the partition: hits applied in bulk, each request once.</summary>
public sealed class TrackingHitTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact, Trait("Rule", "R13.2"), Trait("Rule", "R13.3"), Trait("Rule", "R4")]
    public async Task A_batch_of_hits_offered_again_counts_once_and_a_hit_naming_no_message_changes_nothing()
    {
        var delivery = await StartAsync(TestData.Definition([new("p0", Unique.Email()), new("p1", Unique.Email())]));
        var id = delivery.GetPrimaryKeyString();
        var count = await delivery.GetPartitionCountAsync();
        var partition = Grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(id, StableHash.Bucket("p0", count)));
        var now = DateTimeOffset.UtcNow;
        TrackingHit[] hits =
        [
            new(0, "p0", Guid.NewGuid(), FeedbackType.Open, -1, null, now),
            new(0, "p0", Guid.NewGuid(), FeedbackType.Click, 0, "https://a.example/", now),
            new(0, "p0", Guid.NewGuid(), FeedbackType.Click, 0, "https://a.example/", now),
        ];

        Assert.Empty(await partition.ApplyTrackingAsync(hits));
        Assert.Empty(await partition.ApplyTrackingAsync(hits));

        var link = Assert.Single(await delivery.ListLinksAsync());
        Assert.Equal((0, "https://a.example/", 2L, 1L), (link.Link, link.Url, link.Clicks, link.UniqueClicks));
        var log = await delivery.GetLogAsync("p0", TestData.Alice);
        Assert.Equal((true, true), (log.Opened, log.Clicked));

        // Signed claims that name no relayed message of this slice: answered as unknown, nothing moves.
        Assert.Equal([7], await partition.ApplyTrackingAsync([new(7, "p0", Guid.NewGuid(), FeedbackType.Click, 0, "https://a.example/", now)]));
        Assert.Equal([0], await partition.ApplyTrackingAsync([new(0, "someone-else", Guid.NewGuid(), FeedbackType.Click, 0, "https://a.example/", now)]));
        Assert.Equal(2L, Assert.Single(await delivery.ListLinksAsync()).Clicks);
    }

    [Fact, Trait("Rule", "R13.1")]
    public async Task The_cluster_s_key_is_made_once_and_every_ask_gets_the_same()
    {
        var first = await Grains.GetGrain<ITrackingKeyGrain>(0).GetKeyAsync();
        var second = await Grains.GetGrain<ITrackingKeyGrain>(0).GetKeyAsync();
        Assert.Equal(TrackingOptions.MinKeyBytes, first.Length);
        Assert.Equal(first, second);
    }
}
