using System.ComponentModel.DataAnnotations;
using DeliveryGrains.Feedback;

namespace DeliveryGrains.Silo.Api;

/// <summary>
/// What one HTTP request may hold (configuration section <c>Api</c>), each limit answered by name
/// when it is crossed: a body over <see cref="MaxRequestBodyBytes"/> is a 413, a feedback batch over
/// <see cref="MaxFeedbackBatch"/> a 400, a feedback event dated outside the window a rejected event.
/// </summary>
public sealed class ApiLimitsOptions
{
    public const string Section = "Api";

    /// <summary>The largest request body, in bytes (default 64 MiB: a full feedback batch or inline target with room to spare).</summary>
    [Range(1024, 1L << 31)]
    public long MaxRequestBodyBytes { get; set; } = 64L << 20;

    /// <summary>The most events one <c>POST /api/mta/feedback</c> may carry (at least 10,000).</summary>
    [Range(10_000, 1_000_000)]
    public int MaxFeedbackBatch { get; set; } = 10_000;

    /// <summary>How far ahead of the silo's clock a feedback event's <c>at</c> may be (clock skew between the MTA and the silo).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan FeedbackClockSkew { get; set; } = FeedbackWindow.DefaultClockSkew;

    /// <summary>How long ago a feedback event's <c>at</c> may be (late opens and clicks, R7.4, come within it).</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan FeedbackMaxAge { get; set; } = FeedbackWindow.DefaultMaxAge;
}
