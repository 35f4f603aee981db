using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>Reading sending logs: paging, filters, unknown profiles and who may read them (R1).</summary>
public sealed class LogTests(ClusterFixture fixture) : ClusterTest(fixture)
{
    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R2.1")]
    public async Task Paging_with_the_next_cursor_covers_every_log_exactly_once()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(45)));

        var pages = await PagesAsync(delivery, null, limit: 7);

        Assert.All(pages, p => Assert.InRange(p.Count, 0, 7));
        Assert.True(pages.Count >= 7, $"45 logs in pages of 7 need at least 7 pages, got {pages.Count}");
        var profiles = pages.SelectMany(p => p).Select(l => l.ProfileId).ToList();
        Assert.Equal(45, profiles.Count);
        Assert.Equal(Enumerable.Range(0, 45).Select(i => $"p{i}").Order(), profiles.Order());
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Paging_works_before_the_send_and_shows_every_log_ToDeliver()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(20)));

        var logs = (await PagesAsync(delivery, null, limit: 6)).SelectMany(p => p).ToList();

        Assert.Equal(20, logs.Select(l => l.ProfileId).Distinct().Count());
        Assert.All(logs, l => Assert.Equal((LogStatus.ToDeliver, 0), (l.Status, l.Attempts)));
    }

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R6")]
    public async Task The_status_filter_keeps_only_logs_of_that_status()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(30), efs: true));
        for (var i = 0; i < 6; i++)
        {
            await FeedAsync(delivery, $"p{i}", FeedbackType.HardBounce, FailureReason.UserUnknown);
        }

        for (var i = 6; i < 10; i++)
        {
            await FeedAsync(delivery, $"p{i}", FeedbackType.Delivered);
        }

        await KpisUntil(delivery, k => k.BouncesAndErrors == 6 && k.Delivered == 4, "the outcomes counted");

        var failed = (await PagesAsync(delivery, LogStatus.Failed, limit: 4)).SelectMany(p => p).ToList();
        var sent = (await PagesAsync(delivery, LogStatus.Sent, limit: 3)).SelectMany(p => p).ToList();
        var pending = (await PagesAsync(delivery, LogStatus.Pending, limit: 50)).SelectMany(p => p).ToList();

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"p{i}").Order(), failed.Select(l => l.ProfileId).Order());
        Assert.All(failed, l => Assert.Equal(LogStatus.Failed, l.Status));
        Assert.Equal(Enumerable.Range(6, 4).Select(i => $"p{i}").Order(), sent.Select(l => l.ProfileId).Order());
        Assert.Equal(20, pending.Count);
        Assert.All(pending, l => Assert.Equal(LogStatus.Pending, l.Status));
        Assert.Empty((await PagesAsync(delivery, LogStatus.ToDeliver, limit: 10)).SelectMany(p => p));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task The_log_of_a_profile_not_in_the_sending_logs_is_not_found()
    {
        var delivery = await StartAsync(TestData.Definition([new("in", Unique.Email()), new("excluded", "")]));

        Assert.Equal("in", (await delivery.GetLogAsync("in", TestData.Alice)).ProfileId);
        await Assert.ThrowsAsync<NotFoundException>(() => delivery.GetLogAsync("nobody", TestData.Alice));
        await Assert.ThrowsAsync<NotFoundException>(() => delivery.GetLogAsync("excluded", TestData.Alice));

        var draft = await CreateAsync(TestData.Definition());
        await Assert.ThrowsAsync<NotFoundException>(() => draft.GetLogAsync("p0", TestData.Alice));
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task Logs_are_readable_by_their_creator_or_an_administrator_only()
    {
        var delivery = await CreateAsync(TestData.Definition(TestData.Recipients(2)), TestData.Sam);
        await delivery.PrepareAsync(TestData.Sam);

        // The creator and an administrator may read.
        Assert.Equal(2, (await delivery.ListLogsAsync(new LogQuery(null, null, 10), TestData.Sam)).Items.Count);
        Assert.Equal(2, (await delivery.ListLogsAsync(new LogQuery(null, null, 10), TestData.Ada)).Items.Count);
        Assert.Equal("p0", (await delivery.GetLogAsync("p0", TestData.Ada)).ProfileId);

        // Anyone else is refused, and told which role would allow it.
        var list = await Assert.ThrowsAsync<MissingRoleException>(() => delivery.ListLogsAsync(new LogQuery(null, null, 10), TestData.Paul));
        var one = await Assert.ThrowsAsync<MissingRoleException>(() => delivery.GetLogAsync("p0", TestData.Paul));
        var exclusions = await Assert.ThrowsAsync<MissingRoleException>(() => delivery.ListExclusionsAsync(TestData.Paul));
        Assert.All(new[] { list, one, exclusions }, e => Assert.Equal(Roles.Administration, e.Role));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task A_cursor_that_is_not_one_is_refused_with_the_field_named()
    {
        var delivery = await PrepareAsync(TestData.Definition(TestData.Recipients(2)));

        var refused = await Assert.ThrowsAsync<ValidationException>(() => delivery.ListLogsAsync(new LogQuery(null, "garbage", 10), TestData.Alice));

        Assert.Equal(["after"], refused.Errors.Keys);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task Logs_filter_by_failure_type_and_reason_and_search_by_profile_id_or_address()
    {
        var delivery = await StartAsync(TestData.Definition(TestData.Recipients(40), efs: true));
        for (var i = 0; i < 5; i++)
        {
            await FeedAsync(delivery, $"p{i}", FeedbackType.HardBounce, FailureReason.UserUnknown);
        }

        for (var i = 5; i < 8; i++)
        {
            await FeedAsync(delivery, $"p{i}", FeedbackType.SoftBounce, FailureReason.MailboxFull);
        }

        // With EFS a soft bounce shows Failed until its retry (R6): 5 + 3 bounces, 3 awaiting a retry.
        await KpisUntil(delivery, k => k.BouncesAndErrors == 8 && k.AwaitingRetry == 3, "the bounces counted");

        var unknown = (await PagesAsync(delivery, new LogQuery(null, null, 2, FailureReason: FailureReason.UserUnknown))).SelectMany(p => p).ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"p{i}").Order(), unknown.Select(l => l.ProfileId).Order());
        Assert.All(unknown, l => Assert.Equal((FailureType.Hard, FailureReason.UserUnknown), (l.FailureType, l.FailureReason)));

        var soft = (await PagesAsync(delivery, new LogQuery(null, null, 50, FailureType: FailureType.Soft))).SelectMany(p => p).ToList();
        Assert.Equal(["p5", "p6", "p7"], soft.Select(l => l.ProfileId).Order());

        // Status and reason together: the soft bounces are Failed with EFS (R6) until their retry.
        Assert.Empty((await PagesAsync(delivery, new LogQuery(LogStatus.Sent, null, 50, FailureReason: FailureReason.MailboxFull))).SelectMany(p => p));

        // A part of a profile id, or of an address in any case.
        var byId = (await PagesAsync(delivery, new LogQuery(null, null, 50, Text: "p3"))).SelectMany(p => p).ToList();
        Assert.Equal(new[] { "p3" }.Concat(Enumerable.Range(30, 10).Select(i => $"p{i}")).Order(), byId.Select(l => l.ProfileId).Order());
        var address = (await delivery.GetLogAsync("p12", TestData.Alice)).Address;
        var byAddress = (await PagesAsync(delivery, new LogQuery(null, null, 50, Text: address.ToUpperInvariant()))).SelectMany(p => p).ToList();
        Assert.Equal(["p12"], byAddress.Select(l => l.ProfileId));
    }

    private static Task<List<IReadOnlyList<SendingLog>>> PagesAsync(IDeliveryGrain delivery, LogStatus? status, int limit) =>
        PagesAsync(delivery, new LogQuery(status, null, limit));

    private static async Task<List<IReadOnlyList<SendingLog>>> PagesAsync(IDeliveryGrain delivery, LogQuery query)
    {
        var pages = new List<IReadOnlyList<SendingLog>>();
        string? cursor = null;
        do
        {
            var page = await delivery.ListLogsAsync(query with { After = cursor }, TestData.Alice);
            pages.Add(page.Items);
            Assert.True(pages.Count < 1000, "the cursor never ends");
            cursor = page.Next;
        }
        while (cursor is not null);

        return pages;
    }
}
