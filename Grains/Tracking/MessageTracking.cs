using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;
using MimeKit;

namespace DeliveryGrains.Tracking;

/// <summary>What R13 adds to a message the SMTP factory builds: its signed links, its headers and its tracked HTML.</summary>
public static class MessageTracking
{
    /// <summary>The value of RFC 8058's <c>List-Unsubscribe-Post</c> header and the body of a one-click POST.</summary>
    public const string OneClick = "List-Unsubscribe=One-Click";

    /// <summary>The signed links of the message <paramref name="outbound"/> is (R13.1, R13.4, and the mirror page): <c>unsubscribeUrl</c> and <c>mirrorPageUrl</c> for content.</summary>
    public static MessageLinks LinksOf(LinkSigner signer, OutboundMessage outbound) =>
        signer.For(outbound.DeliveryId, outbound.Partition, outbound.RecipientIndex, outbound.ProfileId);

    /// <summary>
    /// R13.4: <c>List-Unsubscribe</c> with the https URL (when links are signed) and the mailto address,
    /// and RFC 8058's <c>List-Unsubscribe-Post</c>; R13.6: <c>Feedback-ID</c> naming the delivery.
    /// </summary>
    public static void AddHeaders(MimeMessage message, OutboundMessage outbound, MessageLinks? links, string bounceDomain)
    {
        var mailto = $"<mailto:{MessageIdentity.Unsubscribe(outbound.DeliveryId, outbound.ProfileId, bounceDomain)}>";
        if (links is null)
        {
            message.Headers.Add("List-Unsubscribe", mailto);
        }
        else
        {
            message.Headers.Add("List-Unsubscribe", $"<{links.UnsubscribeUrl}>, {mailto}");
            message.Headers.Add("List-Unsubscribe-Post", OneClick);
        }

        message.Headers.Add("Feedback-ID", FeedbackId(outbound.DeliveryId, bounceDomain));
    }

    /// <summary>
    /// R13.6: the <c>Feedback-ID</c> of a delivery's messages, in the <c>a:b:c:SenderId</c> form mailbox
    /// providers' feedback loops report by: the delivery, the channel and the sender's bounce domain.
    /// </summary>
    public static string FeedbackId(string deliveryId, string bounceDomain) => $"{deliveryId}:email:campaign:{bounceDomain}";

    /// <summary>The HTML as sent: tracked when the content is (R13.1) and links are signed, as given otherwise.</summary>
    public static string Track(string html, MessageContent content, MessageLinks? links) =>
        links is not null && content.Tracked ? LinkRewriter.Rewrite(html, links.ClickUrl, links.OpenUrl) : html;
}
