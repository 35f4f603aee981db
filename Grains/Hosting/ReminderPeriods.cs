namespace DeliveryGrains.Hosting;

/// <summary>
/// Reminders here only wake a grain after a deactivation or restart; the work itself is driven by
/// its due time and a timer. Orleans refuses periods under a minute, so a reminder repeats at the
/// larger of its own period and one minute until the grain drops it.
/// </summary>
internal static class ReminderPeriods
{
    public static readonly TimeSpan Minimum = TimeSpan.FromMinutes(1);

    public static TimeSpan Backstop(TimeSpan period) => period < Minimum ? Minimum : period > Horizon ? Horizon : period;

    /// <summary>
    /// The farthest a grain timer or a reminder's due time or period is set: Orleans refuses more
    /// than ~49.7 days (a 32-bit count of milliseconds). A date beyond it is reached by a reminder
    /// that wakes the grain at the horizon to set the next step, never by one long timer.
    /// </summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(30);

    /// <summary>How long to wait before looking again at something due in <paramref name="until"/>: at most the horizon, never negative.</summary>
    public static TimeSpan DueWithinHorizon(TimeSpan until) => until <= TimeSpan.Zero ? TimeSpan.Zero : until > Horizon ? Horizon : until;

    /// <summary>True when a timer can be set for something due in <paramref name="until"/>.</summary>
    public static bool WithinHorizon(TimeSpan until) => until <= Horizon;
}
