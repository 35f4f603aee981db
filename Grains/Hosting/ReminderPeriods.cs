namespace DeliveryGrains.Hosting;

/// <summary>
/// Reminders here only wake a grain after a deactivation or restart; the work itself is driven by
/// its due time and a timer. Orleans refuses periods under a minute, so a reminder repeats at the
/// larger of its own period and one minute until the grain drops it.
/// </summary>
internal static class ReminderPeriods
{
    public static readonly TimeSpan Minimum = TimeSpan.FromMinutes(1);

    public static TimeSpan Backstop(TimeSpan period) => period > Minimum ? period : Minimum;
}
