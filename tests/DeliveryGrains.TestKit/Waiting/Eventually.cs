using System.Diagnostics;

namespace DeliveryGrains.TestKit.Waiting;

/// <summary>
/// The one place tests wait: polls a probe until a condition holds, with a bound. On time-out the
/// test fails with what was expected and the last value seen. Never a fixed sleep: the wait ends on
/// the first poll that sees the event.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(25);

    /// <param name="poll">Pause between probes (25 ms unless told): longer for probes that cost a silo real work.</param>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, string expectation, TimeSpan? timeout = null, TimeSpan? poll = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(poll ?? DefaultPollInterval);
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

            await timer.WaitForNextTickAsync();
        }
    }
}
