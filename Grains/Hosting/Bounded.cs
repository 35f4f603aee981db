namespace DeliveryGrains.Hosting;

/// <summary>
/// Fans work out with a fixed number of calls in flight. Continuations stay on the caller's
/// scheduler, so inside a grain every callback runs in the grain's turn-based context.
/// </summary>
internal static class Bounded
{
    public static async Task ForEachAsync<T>(IEnumerable<T> items, int limit, Func<T, Task> work)
    {
        using var gate = new SemaphoreSlim(limit);
        var running = new List<Task>();
        foreach (var item in items)
        {
            await gate.WaitAsync();
            running.Add(RunAsync(item));
        }

        await Task.WhenAll(running);

        async Task RunAsync(T item)
        {
            try
            {
                await work(item);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
