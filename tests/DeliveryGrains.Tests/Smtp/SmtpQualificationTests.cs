using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta.Smtp;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>The one qualification table (R12.2, R12.3) and the identities that bring reports back to their logs (R12.1).</summary>
public sealed class SmtpQualificationTests
{
    [Theory, Trait("Rule", "R12.2")]
    [InlineData(550, "5.1.1 User unknown", FeedbackType.HardBounce, FailureReason.UserUnknown)]
    [InlineData(550, "5.1.10 Recipient address has null MX", FeedbackType.HardBounce, FailureReason.UserUnknown)]
    [InlineData(550, "5.1.2 Bad destination system", FeedbackType.HardBounce, FailureReason.InvalidDomain)]
    [InlineData(452, "4.2.2 Mailbox full", FeedbackType.SoftBounce, FailureReason.MailboxFull)]
    [InlineData(552, "5.2.2 Mailbox full", FeedbackType.SoftBounce, FailureReason.MailboxFull)]
    [InlineData(554, "5.7.1 Refused by policy", FeedbackType.SoftBounce, FailureReason.Refused)]
    [InlineData(550, "5.7.26 Unauthenticated sender", FeedbackType.SoftBounce, FailureReason.Refused)]
    [InlineData(554, "5.3.4 Message too big", FeedbackType.HardBounce, FailureReason.NotDefined)]
    [InlineData(550, "Mailbox unavailable", FeedbackType.HardBounce, FailureReason.NotDefined)]
    [InlineData(450, "4.2.1 Mailbox busy", FeedbackType.SoftBounce, FailureReason.NotDefined)]
    [InlineData(451, "4.7.0 Temporary policy failure", FeedbackType.SoftBounce, FailureReason.NotDefined)]
    [InlineData(451, "Local error in processing", FeedbackType.SoftBounce, FailureReason.NotDefined)]
    public void A_refusal_is_the_bounce_its_enhanced_code_names(int code, string text, FeedbackType bounce, FailureReason reason)
    {
        var q = SmtpReplyTable.Qualify(code, text);
        Assert.Equal((SmtpVerdict.Bounced, bounce, reason), (q.Verdict, q.Bounce!.Value, q.Reason!.Value));
    }

    [Theory, Trait("Rule", "R12.3")]
    [InlineData(421, "4.3.2 Service shutting down")]
    [InlineData(421, "5.1.1 an odd server still says 421")]
    [InlineData(450, "4.7.1 Greylisted, please try again later")]
    [InlineData(451, "4.7.0 Rate limit exceeded")]
    [InlineData(421, "")]
    public void A_deferral_is_neither_an_attempt_nor_a_bounce(int code, string text) =>
        Assert.Equal(SmtpVerdict.Deferred, SmtpReplyTable.Qualify(code, text).Verdict);

    [Fact, Trait("Rule", "R12.1")]
    public void A_250_relays() => Assert.Equal(SmtpVerdict.Relayed, SmtpReplyTable.Qualify(250, "2.0.0 Ok: queued").Verdict);

    [Theory, Trait("Rule", "R12.1")]
    [InlineData("d-0123abcd", "p-1")]
    [InlineData("0123abcd", "Ann.Smith@home")]
    [InlineData("0123abcd", "p é=1 +x")]
    public void The_envelope_sender_and_message_id_name_their_log(string deliveryId, string profileId)
    {
        var sender = MessageIdentity.EnvelopeSender(deliveryId, profileId, "bounces.example.com");
        Assert.Matches(@"^bounces\+[A-Za-z0-9_=.-]+@bounces\.example\.com$", sender);
        Assert.Equal(new LogIdentity(deliveryId, profileId, null), MessageIdentity.FromEnvelopeSender(sender));

        var messageId = MessageIdentity.MessageId(deliveryId, profileId, 3, "bounces.example.com");
        Assert.Equal(new LogIdentity(deliveryId, profileId, 3), MessageIdentity.FromMessageId($"<{messageId}>"));
    }

    [Theory, Trait("Rule", "R12.4")]
    [InlineData("someone@example.com")]
    [InlineData("bounces+@bounces.example.com")]
    [InlineData("bounces+d1.@bounces.example.com")]
    [InlineData("bounces+d1.p=Z1@bounces.example.com")]
    public void An_address_that_is_not_ours_names_no_log(string address) => Assert.Null(MessageIdentity.FromEnvelopeSender(address));
}
