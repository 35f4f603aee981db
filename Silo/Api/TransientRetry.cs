namespace DeliveryGrains.Silo.Api;

/// <summary>
/// Grain calls the API makes on behalf of a caller, retried inside the silo when Orleans refuses them
/// for a passing reason: the target activation was deactivating (a log that settles gives its
/// activation back at once) or its silo just died. Only idempotent calls go through here (feedback
/// carries event ids), so a call that did land before its answer was lost is harmless to repeat.
/// </summary>
public static partial class TransientRetry
{
    /// <summary>How many times a call is made in all before its failure is answered to the caller.</summary>
    public const int Attempts = 5;

    public static async Task<T> CallAsync<T>(Func<Task<T>> call, ILogger logger, string what, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (IsTransient(ex) && attempt < Attempts && !cancellationToken.IsCancellationRequested)
            {
                LogRetrying(logger, what, attempt, ex.GetType().Name);

                // A deactivation or a directory update completes within milliseconds; a dead silo takes
                // its failure detection (seconds), which the last attempts wait out.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * (1 << (attempt - 1))), cancellationToken);
            }
        }
    }

    /// <summary>Refusals Orleans itself names as passing: the same call made again is expected to land.</summary>
    public static bool IsTransient(Exception ex) => ex is OrleansMessageRejectionException or SiloUnavailableException or TimeoutException
        || (ex is OrleansException && ex.InnerException is { } inner && IsTransient(inner));

    [LoggerMessage(Level = LogLevel.Debug, Message = "{What}: attempt {Attempt} refused for a passing reason ({Reason}); trying again")]
    private static partial void LogRetrying(ILogger logger, string what, int attempt, string reason);
}
