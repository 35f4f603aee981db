using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>R12.1–R12.3 against a real SMTP server in this process, scripted per recipient.</summary>
[Collection(SmtpCollection.Name)]
public sealed class SmtpRelayTests(SmtpClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(3);

    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private ScriptedSmtpServer Server => fixture.Server;

    private SmtpRelay Relay => fixture.Cluster.GetSiloServiceProvider().GetRequiredService<SmtpRelay>();

    /// <summary>What each script must end as: status, failure type and reason, attempts (R12.2 table, R7 retries with one retry allowed).</summary>
    private static readonly Dictionary<string, (LogStatus Status, FailureType? Type, FailureReason? Reason, int Attempts)> Expected = new()
    {
        ["ok"] = (LogStatus.Sent, null, null, 1),
        ["r421"] = (LogStatus.Sent, null, null, 1),
        ["grey"] = (LogStatus.Sent, null, null, 1),
        ["drop"] = (LogStatus.Sent, null, null, 1),
        ["r550"] = (LogStatus.Failed, FailureType.Hard, FailureReason.UserUnknown, 1),
        ["r450"] = (LogStatus.Failed, FailureType.Soft, FailureReason.NotDefined, 2),
        ["r452"] = (LogStatus.Failed, FailureType.Soft, FailureReason.MailboxFull, 2),
        ["r552"] = (LogStatus.Failed, FailureType.Soft, FailureReason.MailboxFull, 2),
        ["r554"] = (LogStatus.Failed, FailureType.Soft, FailureReason.Refused, 2),
    };

    private static DeliveryDefinition Definition(IReadOnlyList<Recipient> recipients, TimeSpan? validity = null, MessageContent? content = null) =>
        TestData.Definition(recipients, validity: validity ?? TimeSpan.FromMinutes(30), retryPeriod: TimeSpan.FromSeconds(1), maxRetries: 1,
            mta: new MtaSettings(MtaKind.Smtp, Content: content));

    private async Task<IDeliveryGrain> StartAsync(DeliveryDefinition definition)
    {
        var delivery = Grains.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(definition, TestData.Alice);
        await delivery.PrepareAsync(TestData.Alice);
        await delivery.ConfirmSendAsync(TestData.Alice);
        return delivery;
    }

    private static async Task<List<SendingLog>> AllLogsAsync(IDeliveryGrain delivery)
    {
        var logs = new List<SendingLog>();
        string? after = null;
        do
        {
            var page = await delivery.ListLogsAsync(new LogQuery(null, after, 1000), TestData.Alice);
            logs.AddRange(page.Items);
            after = page.Next;
        }
        while (after is not null);
        return logs;
    }

    private static string ScriptOf(string address) => address[..address.IndexOf('-')];

    [Fact, Trait("Rule", "R12.1"), Trait("Rule", "R13.4")]
    public async Task A_message_is_real_MIME_naming_its_log_and_personalized_from_the_target()
    {
        var unique = Unique.Id();
        var address = $"ok-{unique}@content.test";
        var recipient = new Recipient($"p {unique} é", address, new Dictionary<string, string> { ["firstName"] = "Ann & Bo" });
        var delivery = await StartAsync(Definition([recipient], content: new MessageContent(
            "Hi {{firstName}}", "Dear {{FirstName}}, {{city|friend}}.", "<p>Dear {{firstName}}</p>")));
        var deliveryId = delivery.GetPrimaryKeyString();

        var log = await Eventually.Until(() => delivery.GetLogAsync(recipient.ProfileId, TestData.Alice), l => l.Status == LogStatus.Sent, "the message relayed", Long);
        Assert.Equal(1, log.Attempts);
        Assert.NotNull(log.RelayedAt);

        var message = Server.LastMessageTo[address];
        Assert.Equal("Hi Ann & Bo", message.Subject);
        Assert.Equal("news@sender.test", message.From.Mailboxes.Single().Address);
        Assert.Equal(address, message.To.Mailboxes.Single().Address);
        Assert.NotEqual(default, message.Date);
        Assert.Equal(new LogIdentity(deliveryId, recipient.ProfileId, 1), MessageIdentity.FromMessageId(message.MessageId));
        // R13.4: the one-click https URL first, then the mailto address.
        Assert.Contains(">, <mailto:unsubscribe+", message.Headers[HeaderId.ListUnsubscribe]);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal("Dear Ann & Bo, friend.", message.TextBody?.Trim());
        Assert.Contains("<p>Dear Ann &amp; Bo</p>", message.HtmlBody);

        var sender = Server.LastEnvelopeSenderTo[address];
        Assert.StartsWith($"bounces+{deliveryId}.", sender);
        Assert.EndsWith($"@{SmtpClusterFixture.BounceDomain}", sender);
        Assert.Equal(new LogIdentity(deliveryId, recipient.ProfileId, null), MessageIdentity.FromEnvelopeSender(sender));
    }

    [Fact, Trait("Rule", "R12.2"), Trait("Rule", "R12.3")]
    public async Task Each_scripted_reply_ends_its_message_as_the_table_says()
    {
        var unique = Unique.Id();
        var recipients = Expected.Keys.Select((script, i) => new Recipient($"p{i}", $"{script}-{unique}@scripted.test")).ToList();
        var delivery = await StartAsync(Definition(recipients));

        var kpis = (await Eventually.Until(delivery.GetViewAsync,
            v => v.Kpis.Sent == recipients.Count && v.Kpis.AwaitingRetry == 0 && v.Kpis.Delivered + v.Kpis.BouncesAndErrors == recipients.Count,
            "every message answered and settled", Long)).Kpis;
        Assert.Equal(Expected.Values.Count(e => e.Status == LogStatus.Failed), kpis.BouncesAndErrors);

        foreach (var log in await AllLogsAsync(delivery))
        {
            var expected = Expected[ScriptOf(log.Address)];
            Assert.True((expected.Status, expected.Type, expected.Reason, expected.Attempts) == (log.Status, log.FailureType, log.FailureReason, log.Attempts),
                $"{log.Address}: expected {expected}, got ({log.Status}, {log.FailureType}, {log.FailureReason}, {log.Attempts})");
        }

        AssertNoMessageAcceptedTwice(delivery);
    }

    [Fact, Trait("Rule", "R12.3")]
    public async Task Two_thousand_recipients_over_four_domains_end_per_the_table_and_the_throttled_domain_adapts()
    {
        var unique = Unique.Id();
        string[] scripts = [.. Expected.Keys];
        string[] domains = ["a.test", "b.test", "c.test", SmtpClusterFixture.ThrottledDomain];
        var recipients = Enumerable.Range(0, 2000).Select(i =>
        {
            var domain = domains[i % domains.Length];
            var script = domain == SmtpClusterFixture.ThrottledDomain ? "ok" : scripts[i / domains.Length % scripts.Length];
            return new Recipient($"p{i}", $"{script}-{i}.{unique}@{domain}");
        }).ToList();
        var throttledBefore = Server.Throttled;
        var decreasesBefore = Relay.Domains().FirstOrDefault(d => d.Domain == SmtpClusterFixture.ThrottledDomain)?.RateDecreases ?? 0;

        var delivery = await StartAsync(Definition(recipients));
        var kpis = (await Eventually.Until(delivery.GetViewAsync,
            v => v.Kpis.Sent == recipients.Count && v.Kpis.AwaitingRetry == 0 && v.Kpis.Delivered + v.Kpis.BouncesAndErrors == recipients.Count,
            "every message answered and settled", Long)).Kpis;

        foreach (var d in Relay.Domains())
        {
            output.WriteLine(d.ToString());
        }

        var logs = await AllLogsAsync(delivery);
        Assert.Equal(recipients.Count, logs.Count);
        foreach (var log in logs)
        {
            var expected = Expected[ScriptOf(log.Address)];
            Assert.True((expected.Status, expected.Type, expected.Reason, expected.Attempts) == (log.Status, log.FailureType, log.FailureReason, log.Attempts),
                $"{log.Address}: expected {expected}, got ({log.Status}, {log.FailureType}, {log.FailureReason}, {log.Attempts})");
        }

        Assert.Equal(recipients.Count(r => Expected[ScriptOf(r.Address!)].Status == LogStatus.Failed), kpis.BouncesAndErrors);

        // 500 messages past a 100-per-window cap: the server throttled at least four times, the domain's
        // rate went down, and still no message of that domain failed.
        Assert.True(Server.Throttled - throttledBefore >= 4, $"the server throttled {Server.Throttled - throttledBefore} times");
        var slow = Relay.Domains().Single(d => d.Domain == SmtpClusterFixture.ThrottledDomain);
        Assert.True(slow.RateDecreases > decreasesBefore, "the throttled domain's rate was lowered");
        Assert.All(logs.Where(l => l.Address.EndsWith(SmtpClusterFixture.ThrottledDomain, StringComparison.Ordinal)), l => Assert.Equal(LogStatus.Sent, l.Status));
        AssertNoMessageAcceptedTwice(delivery);

        // The domain view: every domain's messages counted, the throttled one's deferrals and lowered cap shown.
        var view = await Eventually.Until(delivery.GetDomainsAsync,
            d => d.Count == 4 && d.Single(x => x.Domain == SmtpClusterFixture.ThrottledDomain).Deferrals >= 4,
            "the relay's figures in the domain view", Long);
        Assert.Equal(domains.Order(StringComparer.Ordinal), view.Select(d => d.Domain));
        Assert.All(view, d => Assert.Equal((500L, 500L), (d.ToDeliver, d.Sent)));
        Assert.Equal(kpis.Delivered, view.Sum(d => d.Delivered));
        Assert.Equal(kpis.BouncesAndErrors, view.Sum(d => d.BouncesAndErrors));
        var throttled = view.Single(d => d.Domain == SmtpClusterFixture.ThrottledDomain);
        Assert.Equal((500L, 0L), (throttled.Delivered, throttled.BouncesAndErrors));
        Assert.InRange(throttled.RateCapPerMinute!.Value, 1, SmtpClusterFixture.RateCapPerMinute);
    }

    [Fact, Trait("Rule", "R12.3")]
    public async Task A_message_that_met_only_deferrals_stays_to_deliver_when_the_validity_period_ends()
    {
        var unique = Unique.Id();
        var recipients = new List<Recipient> { new("never", $"never-{unique}@deferred.test"), new("fine", $"ok-{unique}@a.test") };
        var delivery = await StartAsync(Definition(recipients, validity: TimeSpan.FromSeconds(3)));

        var view = await Eventually.Until(delivery.GetViewAsync, v => v.Status == DeliveryStatus.Finished, "the validity period over", Long);
        Assert.Equal(1, view.Kpis.Sent);
        Assert.Equal(1, view.Kpis.Delivered);
        Assert.Equal(0, view.Kpis.BouncesAndErrors);
        var never = await delivery.GetLogAsync("never", TestData.Alice);
        Assert.Equal((LogStatus.ToDeliver, 0, (DateTimeOffset?)null), (never.Status, never.Attempts, never.RelayedAt));
        Assert.True(Relay.DeferralsOf(delivery.GetPrimaryKeyString()).GetValueOrDefault("deferred.test") > 0, "its deferrals are counted");
        var domains = await Eventually.Until(delivery.GetDomainsAsync, d => d.Any(x => x.Domain == "deferred.test" && x.Deferrals > 0), "the deferrals in the domain view", Long);
        var deferred = domains.Single(d => d.Domain == "deferred.test");
        Assert.Equal((1L, 0L, 0L, 0L), (deferred.ToDeliver, deferred.Sent, deferred.Delivered, deferred.BouncesAndErrors));
    }

    private void AssertNoMessageAcceptedTwice(IDeliveryGrain delivery)
    {
        var prefix = delivery.GetPrimaryKeyString() + ".";
        var mine = Server.AcceptedByMessageId.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(mine);
        Assert.All(mine, kv => Assert.True(kv.Value == 1, $"{kv.Key} accepted {kv.Value} times"));
    }
}
