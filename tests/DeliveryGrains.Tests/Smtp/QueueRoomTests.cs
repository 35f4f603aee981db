using DeliveryGrains.Mta;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>The room in an MTA's in-memory queue: a relay beyond the limit waits, and goes on once the queue has drained a tenth.</summary>
public sealed class QueueRoomTests
{
    [Fact, Trait("Rule", "R12.1")]
    public async Task A_relay_beyond_the_limit_waits_until_the_queue_is_a_tenth_below_it()
    {
        var room = new QueueRoom(limit: 10);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(room.WaitAsync().IsCompleted);
            room.Added();
        }

        var waiting = room.WaitAsync().AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, room.Waiting);

        room.Left();
        Assert.False(waiting.IsCompleted); // 9 of 10: not yet a tenth below
        room.Left();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, room.Waiting);
        Assert.Equal(8, room.Count);
    }

    [Fact, Trait("Rule", "R12.1")]
    public async Task Closing_the_queue_lets_every_waiter_go()
    {
        var room = new QueueRoom(limit: 100);
        room.Added(100);
        var waiters = Enumerable.Range(0, 3).Select(_ => room.WaitAsync().AsTask()).ToArray();
        Assert.All(waiters, w => Assert.False(w.IsCompleted));

        room.Close();

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(room.HasRoom);
    }
}
