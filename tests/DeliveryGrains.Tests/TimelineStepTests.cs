using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Tests;

/// <summary>
/// The least time between two points of a delivery's KPI timeline: a point a second while the
/// figures can still move fast (relaying, answers awaited, the first hour), so the charts keep up with
/// the Deployment block; a point a minute for a delivery long settled.
/// </summary>
public sealed class TimelineStepTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [Trait("Rule", "R8")]
    [InlineData(DeliveryStatus.InProgress, 0, 0L)]
    [InlineData(DeliveryStatus.InProgress, 48 * 60, 0L)]
    [InlineData(DeliveryStatus.Sent, 0, 0L)]
    [InlineData(DeliveryStatus.Sent, 59, 0L)]
    [InlineData(DeliveryStatus.Sent, 3 * 60, 12L)]
    [InlineData(DeliveryStatus.Stopped, 3 * 60, 1L)]
    public void A_point_a_second_while_relaying_while_answers_are_awaited_and_in_the_first_hour(DeliveryStatus status, int minutesAfterStart, long pending) =>
        Assert.Equal(TimeSpan.FromSeconds(1), DeliveryGrain.TimelineStep(status, Start, pending, Start.AddMinutes(minutesAfterStart)));

    [Theory]
    [Trait("Rule", "R8")]
    [InlineData(DeliveryStatus.Sent, 60)]
    [InlineData(DeliveryStatus.Sent, 3 * 60)]
    [InlineData(DeliveryStatus.Finished, 72 * 60)]
    public void A_point_a_minute_once_nothing_is_awaited_after_the_first_hour(DeliveryStatus status, int minutesAfterStart) =>
        Assert.Equal(TimeSpan.FromMinutes(1), DeliveryGrain.TimelineStep(status, Start, pending: 0, Start.AddMinutes(minutesAfterStart)));
}
