using DeliveryGrains.Hosting;

namespace DeliveryGrains.Tests.Hosting;

/// <summary>
/// The coalescing state writer every reentrant grain stores through: a save completes only once a
/// write that holds the caller's change is stored. Each write here is a task the test completes, so
/// the order of events is fixed by construction, and the writer's continuations run one at a time on
/// a queue the test drains after each step, as they do on a grain's scheduler: every step is checked
/// right after it, with no waiting.
/// </summary>
public sealed class StateWriterTests
{
    private readonly List<TaskCompletionSource> _writes = [];
    private readonly Turns _turns = new();

    private StateWriter NewWriter()
    {
        SynchronizationContext.SetSynchronizationContext(_turns);
        return new StateWriter(() =>
        {
            var write = new TaskCompletionSource();
            _writes.Add(write);
            return write.Task;
        });
    }

    /// <summary>Ends write <paramref name="n"/> and runs every turn it lets go.</summary>
    private void Complete(int n, Exception? failure = null)
    {
        if (failure is null)
        {
            _writes[n].SetResult();
        }
        else
        {
            _writes[n].SetException(failure);
        }

        _turns.RunAll();
    }

    /// <summary>A grain's scheduler in miniature: posted continuations wait in order until the test runs them.</summary>
    private sealed class Turns : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();

        public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue((d, state));

        public void RunAll()
        {
            while (_queue.TryDequeue(out var turn))
            {
                turn.Callback(turn.State);
            }
        }
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_change_made_while_a_write_is_in_flight_waits_for_the_next_write()
    {
        var writer = NewWriter();
        var first = writer.SaveAsync();
        var second = writer.SaveAsync();
        Assert.Single(_writes);

        Complete(0);

        // The first write began before the second change: its success says nothing about that change.
        Assert.True(first.IsCompletedSuccessfully);
        Assert.False(second.IsCompleted, "The second save completed with the write that began before its change.");
        Assert.Equal(2, _writes.Count);

        Complete(1);
        Assert.True(second.IsCompletedSuccessfully);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_change_whose_write_fails_is_answered_with_the_failure()
    {
        var writer = NewWriter();
        var first = writer.SaveAsync();
        var second = writer.SaveAsync();
        Complete(0);

        Complete(1, new InvalidOperationException("the store refused the write"));

        Assert.True(first.IsCompletedSuccessfully);
        Assert.True(second.IsFaulted);
        Assert.Equal("the store refused the write", second.Exception!.InnerException!.Message);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void Changes_made_during_one_write_share_the_next_and_a_failed_write_fails_only_its_own_callers()
    {
        var writer = NewWriter();
        var first = writer.SaveAsync();
        var second = writer.SaveAsync();
        var third = writer.SaveAsync();

        Complete(0, new InvalidOperationException("lost"));

        Assert.True(first.IsFaulted);
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, _writes.Count);

        Complete(1);
        Assert.True(second.IsCompletedSuccessfully);
        Assert.True(third.IsCompletedSuccessfully);
        Assert.Equal(2, _writes.Count);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public void A_save_with_nothing_in_flight_writes_at_once()
    {
        var writer = NewWriter();
        var save = writer.SaveAsync();
        Assert.Single(_writes);
        Complete(0);
        Assert.True(save.IsCompletedSuccessfully);

        var again = writer.SaveAsync();
        Assert.Equal(2, _writes.Count);
        Complete(1);
        Assert.True(again.IsCompletedSuccessfully);
    }
}
