using System.Net;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;

namespace DeliveryGrains.Tracking;

/// <summary>
/// The mirror page (<c>mirrorPageUrl</c>): the message as this recipient got it, made again on
/// demand from the delivery's content and the recipient's fields by the very function the SMTP
/// factory makes the HTML part with (<see cref="SmtpMessageFactory.HtmlBody"/>), links tracked the
/// same way. Nothing is stored per recipient.
/// </summary>
public static class MirrorPage
{
    /// <summary>The page's HTML, or null when the token's recipient was sent nothing.</summary>
    public static async Task<string?> RenderAsync(IGrainFactory grains, TrackingClaims claims, LinkSigner signer)
    {
        var sent = await grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(claims.DeliveryId, claims.Partition))
            .FindSentMessageAsync(claims.RecipientIndex, claims.ProfileId);
        if (sent is null)
        {
            return null;
        }

        var run = sent.Run;
        var outbound = new OutboundMessage(claims.DeliveryId, claims.Partition, claims.RecipientIndex, sent.Recipient.ProfileId,
            sent.Recipient.Address ?? "", run.Channel, sent.Attempt, run.EmailFeedbackService, run.Mta,
            sent.Recipient.Fields is { Count: > 0 } fields ? fields : null, run.ValidUntil);
        var links = MessageTracking.LinksOf(signer, outbound);
        if (SmtpMessageFactory.HtmlBody(outbound, links) is { } html)
        {
            return html;
        }

        // A text-only message is shown as its text.
        var text = SmtpMessageFactory.TextBody(outbound, links) ?? "";
        return $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><pre style=\"white-space:pre-wrap\">{WebUtility.HtmlEncode(text)}</pre></body></html>";
    }
}
