using DeliveryGrains.Deliveries;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>R3.2–R3.4: recurring deliveries, their runs and their aggregation periods.</summary>
public sealed class RecurrenceTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    private static DeliveryDefinition Recurring(int count, bool requestConfirmation, AggregationPeriod? aggregation = null) =>
        TestData.Definition(TestData.Recipients(3), validity: TimeSpan.FromSeconds(2)) with
        {
            RequestConfirmation = requestConfirmation,
            Recurrence = new Recurrence(Every, count, aggregation),
        };

    private static Task<IReadOnlyList<Execution>> ExecutionsUntil(IDeliveryGrain template, Func<IReadOnlyList<Execution>, bool> condition, string expectation) =>
        Eventually.Until(template.ListExecutionsAsync, condition, expectation, TimeSpan.FromSeconds(20));

    [Fact]
    [Trait("Rule", "R3.2")]
    [Trait("Rule", "R3.3")]
    public async Task With_request_confirmation_each_run_is_prepared_and_waits_in_Ready_for_a_StartDeliveries_user()
    {
        var template = await PrepareAsync(Recurring(2, requestConfirmation: true));

        var started = await template.ConfirmSendAsync(TestData.Alice);

        Assert.Equal(DeliveryStatus.InProgress, started.Status);
        var executions = await ExecutionsUntil(template, e => e.Count == 2 && e.All(x => x.Status == DeliveryStatus.Ready), "both runs prepared and waiting");
        Assert.All(executions, e => Assert.Equal(3, e.Kpis.ToDeliver));
        Assert.Equal(0, (await template.GetViewAsync()).Kpis.Sent);

        var run = Delivery(executions[0].Id);
        await Assert.ThrowsAsync<MissingRoleException>(() => run.ConfirmSendAsync(TestData.Paul));
        await run.ConfirmSendAsync(TestData.Sam);
        var view = await ViewUntil(template, v => v.Kpis.Sent == 3, "the confirmed run's messages count in the template");
        Assert.Equal(6, view.Kpis.ToDeliver);
        Assert.Equal(template.GetPrimaryKeyString(), (await run.GetViewAsync()).TemplateId);
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task Without_request_confirmation_runs_send_by_themselves_and_the_template_finishes_after_the_last()
    {
        var template = await PrepareAsync(Recurring(3, requestConfirmation: false));

        await template.ConfirmSendAsync(TestData.Alice);

        var finished = await ViewUntil(template, v => v.Status == DeliveryStatus.Finished, "every run finished", TimeSpan.FromSeconds(25));
        Assert.Equal(9, finished.Kpis.ToDeliver);
        Assert.Equal(9, finished.Kpis.Sent);
        Assert.Equal(100.0, finished.Kpis.DeliveredRate);
        var executions = await template.ListExecutionsAsync();
        Assert.Equal(3, executions.Count);
        Assert.All(executions, e => Assert.Equal(DeliveryStatus.Finished, e.Status));
        Assert.Equal(executions.Select(e => e.Id).Distinct().Count(), executions.Count);
        var times = executions.Select(e => DateTimeOffset.Parse(e.Period, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(Every, pair.Second - pair.First));
    }

    [Fact]
    [Trait("Rule", "R3.4")]
    public async Task With_an_aggregation_period_runs_of_the_same_period_roll_up_into_one_execution()
    {
        var template = await PrepareAsync(Recurring(2, requestConfirmation: true, AggregationPeriod.Month));

        await template.ConfirmSendAsync(TestData.Alice);

        // R3.4: no confirmation is offered; the runs send by themselves.
        var executions = await ExecutionsUntil(template, e => e.Count == 1 && e[0].Runs.Count == 2 && e[0].Kpis.Sent == 6, "both runs in one period");
        var period = Assert.Single(executions);
        Assert.Equal($"{template.GetPrimaryKeyString()}~{DeliveryGrain.PeriodKey(DateTimeOffset.UtcNow, AggregationPeriod.Month)}", period.Id);
        var summed = await template.GetExecutionViewAsync(period.Id);
        Assert.Equal(6, summed.Kpis.ToDeliver);
        Assert.Equal(6, summed.Kpis.Sent);
        await Assert.ThrowsAsync<NotFoundException>(() => template.GetExecutionViewAsync($"{template.GetPrimaryKeyString()}~1999-01"));
    }

    [Theory]
    [Trait("Rule", "R3.4")]
    [InlineData("2026-01-01T10:00:00Z", AggregationPeriod.Week, "2026-W01")]
    [InlineData("2027-01-01T10:00:00Z", AggregationPeriod.Week, "2026-W53")]
    [InlineData("2026-12-31T23:59:59Z", AggregationPeriod.Day, "2026-12-31")]
    [InlineData("2026-03-01T00:30:00+02:00", AggregationPeriod.Day, "2026-02-28")]
    [InlineData("2026-11-27T08:00:00Z", AggregationPeriod.Month, "2026-11")]
    public void Aggregation_periods_are_UTC_days_ISO_weeks_and_months(string at, AggregationPeriod period, string key)
    {
        Assert.Equal(key, DeliveryGrain.PeriodKey(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture), period));
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    [Trait("Rule", "R2")]
    public async Task Stopping_a_recurring_delivery_starts_no_further_run()
    {
        var template = await PrepareAsync(TestData.Definition(TestData.Recipients(2)) with
        {
            RequestConfirmation = true,
            Recurrence = new Recurrence(TimeSpan.FromHours(1), 5, null),
        });
        await template.ConfirmSendAsync(TestData.Alice);
        await ExecutionsUntil(template, e => e.Count == 1, "the first run");

        var stopped = await template.StopAsync(TestData.Alice);

        Assert.Equal(DeliveryStatus.Stopped, stopped.Status);
        Assert.Single(await template.ListExecutionsAsync());
        Assert.Empty(await RemindersOf(template));
        await Assert.ThrowsAsync<ConflictException>(() => template.PauseAsync(TestData.Alice));
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task A_recurrence_with_bad_values_is_refused_naming_the_fields()
    {
        var delivery = Delivery(TestData.NewDeliveryId());
        var definition = TestData.Definition() with { Recurrence = new Recurrence(TimeSpan.Zero, 0, null) };

        var refusal = await Assert.ThrowsAsync<ValidationException>(() => delivery.CreateAsync(definition, TestData.Alice));

        Assert.Contains("recurrence.every", refusal.Errors.Keys);
        Assert.Contains("recurrence.count", refusal.Errors.Keys);
    }
}
