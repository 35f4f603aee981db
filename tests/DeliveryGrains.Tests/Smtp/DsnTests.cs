using System.Text;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Tests.Infrastructure;
using MailKit.Net.Smtp;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>R12.4: delivery status notifications that come later move the logs they name.</summary>
[Collection(SmtpCollection.Name)]
public sealed class DsnTests(SmtpClusterFixture fixture)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    private IServiceProvider Silo => fixture.Cluster.GetSiloServiceProvider();

    private DsnInbox Inbox => Silo.GetRequiredService<DsnInbox>();

    private static MimeMessage Parse(string raw) => MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(raw)));

    /// <summary>Sends one message over SMTP to an accepting recipient and waits until it is relayed; answers the delivery, profile and address.</summary>
    private async Task<(IDeliveryGrain Delivery, string ProfileId, string Address)> RelayedAsync(bool efs = false)
    {
        var address = $"ok-{Unique.Id()}@dsn.test";
        var delivery = fixture.Cluster.GrainFactory.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(TestData.Definition([new Recipient("p1", address)], efs: efs, validity: TimeSpan.FromMinutes(30),
            retryPeriod: TimeSpan.FromMinutes(10), mta: new MtaSettings(MtaKind.Smtp)), TestData.Alice);
        await delivery.PrepareAsync(TestData.Alice);
        await delivery.ConfirmSendAsync(TestData.Alice);
        await Eventually.Until(() => delivery.GetLogAsync("p1", TestData.Alice), l => l.RelayedAt is not null, "the message relayed", Long);
        return (delivery, "p1", address);
    }

    private static string Verp(IDeliveryGrain delivery, string profileId) =>
        MessageIdentity.EnvelopeSender(delivery.GetPrimaryKeyString(), profileId, SmtpClusterFixture.BounceDomain);

    [Fact, Trait("Rule", "R12.4")]
    public async Task A_hard_report_to_the_VERP_address_fails_the_log_and_a_repeat_is_a_duplicate()
    {
        var (delivery, profileId, address) = await RelayedAsync();
        var raw = DsnSamples.Report(Verp(delivery, profileId), address, "failed", "5.1.1", "550 5.1.1 User unknown");

        Assert.Equal(DsnOutcome.Accepted, (await Inbox.ProcessAsync(Parse(raw), [])).Outcome);
        var log = await delivery.GetLogAsync(profileId, TestData.Alice);
        Assert.Equal((LogStatus.Failed, FailureType.Hard, FailureReason.UserUnknown), (log.Status, log.FailureType!.Value, log.FailureReason!.Value));
        await Eventually.Until(delivery.GetViewAsync, v => v.Kpis.BouncesAndErrors == 1 && v.Kpis.Delivered == 0, "the bounce in the KPIs (R5.2)");

        Assert.Equal(DsnOutcome.Duplicate, (await Inbox.ProcessAsync(Parse(raw), [])).Outcome);
    }

    [Fact, Trait("Rule", "R12.4")]
    public async Task A_soft_report_found_by_its_returned_Message_ID_waits_for_a_retry()
    {
        var (delivery, profileId, address) = await RelayedAsync();
        var messageId = MessageIdentity.MessageId(delivery.GetPrimaryKeyString(), profileId, 1, SmtpClusterFixture.BounceDomain);
        var raw = DsnSamples.Report("postmaster@elsewhere.example", address, "failed", "5.2.2", "552 5.2.2 Mailbox full", returnedMessageId: messageId);

        Assert.Equal(DsnOutcome.Accepted, (await Inbox.ProcessAsync(Parse(raw), [])).Outcome);
        var log = await delivery.GetLogAsync(profileId, TestData.Alice);
        Assert.Equal((LogStatus.Sent, FailureType.Soft, FailureReason.MailboxFull, LogPhase.AwaitingRetry),
            (log.Status, log.FailureType!.Value, log.FailureReason!.Value, log.Phase));
        await Eventually.Until(delivery.GetViewAsync, v => v.Kpis.AwaitingRetry == 1, "the retry awaited (R5.3)");
    }

    [Fact, Trait("Rule", "R12.4")]
    public async Task A_delayed_report_changes_nothing_and_a_delivered_one_delivers_with_EFS()
    {
        var (delivery, profileId, address) = await RelayedAsync(efs: true);
        var envelopeId = MessageIdentity.MessageId(delivery.GetPrimaryKeyString(), profileId, 1, SmtpClusterFixture.BounceDomain);

        Assert.Equal(DsnOutcome.Accepted, (await Inbox.ProcessAsync(Parse(DsnSamples.Report("x@y.example", address, "delayed", "4.4.7", envelopeId: envelopeId)), [])).Outcome);
        Assert.Equal(LogStatus.Pending, (await delivery.GetLogAsync(profileId, TestData.Alice)).Status);

        Assert.Equal(DsnOutcome.Accepted, (await Inbox.ProcessAsync(Parse(DsnSamples.Report("x@y.example", address, "delivered", "2.0.0", envelopeId: envelopeId)), [])).Outcome);
        Assert.Equal(LogStatus.Sent, (await delivery.GetLogAsync(profileId, TestData.Alice)).Status);
    }

    [Fact, Trait("Rule", "R12.4")]
    public async Task An_unmatched_and_a_malformed_report_are_rejected_with_a_reason()
    {
        var unmatched = await Inbox.ProcessAsync(Parse(DsnSamples.Report(
            MessageIdentity.EnvelopeSender("d-nosuchdelivery", "p1", SmtpClusterFixture.BounceDomain), "ann@example.test", "failed", "5.1.1")), []);
        Assert.Equal(DsnOutcome.Rejected, unmatched.Outcome);
        Assert.Contains("no relayed message", unmatched.Error);

        var notOurs = await Inbox.ProcessAsync(Parse(DsnSamples.Report("someone@example.test", "ann@example.test", "failed", "5.1.1")), []);
        Assert.Equal(DsnOutcome.Rejected, notOurs.Outcome);
        Assert.Contains("names no sending log", notOurs.Error);

        var malformed = await Inbox.ProcessAsync(Parse(DsnSamples.NotAReport("someone@example.test")), []);
        Assert.Equal(DsnOutcome.Rejected, malformed.Outcome);
        Assert.Contains("multipart/report", malformed.Error);
    }

    [Fact, Trait("Rule", "R12.4")]
    public async Task A_report_sent_to_the_inbound_SMTP_listener_fails_the_log()
    {
        var (delivery, profileId, address) = await RelayedAsync();
        var port = Silo.GetRequiredService<DsnListener>().Port;
        Assert.NotNull(port);

        var verp = Verp(delivery, profileId);
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", port.Value, MailKit.Security.SecureSocketOptions.None);
            var report = Parse(DsnSamples.Report(verp, address, "failed", "5.1.1", "550 5.1.1 User unknown"));
            await client.SendAsync(report, MailboxAddress.Parse("mailer-daemon@mx.example.net"), [MailboxAddress.Parse(verp)]);

            var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(
                Parse(DsnSamples.NotAReport(verp)), MailboxAddress.Parse("someone@example.net"), [MailboxAddress.Parse(verp)]));
            Assert.Equal(550, (int)refused.StatusCode);
            await client.DisconnectAsync(true);
        }

        var log = await delivery.GetLogAsync(profileId, TestData.Alice);
        Assert.Equal((LogStatus.Failed, FailureType.Hard, FailureReason.UserUnknown), (log.Status, log.FailureType!.Value, log.FailureReason!.Value));
    }
}
