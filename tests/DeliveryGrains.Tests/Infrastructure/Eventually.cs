using System.Diagnostics;

namespace DeliveryGrains.Tests.Infrastructure;

/// <summary>
/// The one place tests wait: polls a probe until a condition holds, with a bound. On time-out the
/// test fails with what was expected and the last value seen.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, string expectation, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(PollInterval);
        while (true)
        {
            var last = await probe();
            if (condition(last))
            {
                return last;
            }

            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Waited {limit.TotalSeconds:0.#} s for: {expectation}. Last value: {last}");
            }

            await poll.WaitForNextTickAsync();
        }
    }
}
