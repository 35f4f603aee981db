using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Tracking;
using MimeKit;
using ContentLinks = DeliveryGrains.Content.MessageLinks;
using TrackedLinks = DeliveryGrains.Tracking.MessageLinks;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// Builds the real message of one attempt (R12.1) with MimeKit: From (with the content's display
/// name), To, Subject, Date, a Message-ID and a VERP envelope sender naming the log
/// (<see cref="MessageIdentity"/>), the unsubscribe headers and <c>Feedback-ID</c> (R13.4, R13.6), and
/// the delivery's content as plain text and HTML, rendered for the recipient by
/// <see cref="ContentTemplate"/> (R14.1, R14.2) and then tracked (R13.1).
/// </summary>
public sealed class SmtpMessageFactory(MailboxAddress from, string bounceDomain)
{
    public static SmtpMessageFactory From(SmtpOptions options) =>
        new(MailboxAddress.Parse(options.From!), options.BounceDomain!);

    public string BounceDomain => bounceDomain;

    /// <summary>
    /// The message of one attempt. With <paramref name="signer"/> (R13) it carries the one-click
    /// unsubscribe headers, the signed <c>unsubscribeUrl</c> and <c>mirrorPageUrl</c> for the content
    /// and, when the content is tracked, tracked links and the open pixel; without it the unsubscribe
    /// address is the mailto one. A <paramref name="proof"/> has neither (no link of it may act on the
    /// recipient it shows). A template that hits a bound throws <see cref="TemplateRenderException"/>.
    /// </summary>
    public (MimeMessage Message, MailboxAddress Sender) Build(OutboundMessage outbound, DateTimeOffset at, LinkSigner? signer = null, bool proof = false)
    {
        var content = outbound.Mta.Content;
        var links = signer is null || proof ? null : MessageTracking.LinksOf(signer, outbound);
        // A proof (R14.4) shows a recipient's message to someone else: no address of it may unsubscribe that recipient.
        var mailto = proof ? "" : $"mailto:{MessageIdentity.Unsubscribe(outbound.DeliveryId, outbound.ProfileId, bounceDomain)}";
        var rendered = Render(outbound, links, mailto);

        // Not MimeMessage(): it stamps a Date in local time and generates a Message-ID, both replaced below.
        var message = new MimeMessage(new HeaderList());
        // A fresh address per message: an address list subscribes to its addresses' change events, so one
        // shared From would keep every message ever built alive through its handler list.
        message.From.Add(new MailboxAddress(string.IsNullOrWhiteSpace(content?.FromName) ? from.Name : content.FromName, from.Address));
        message.To.Add(MailboxAddress.Parse(outbound.Address));
        message.Subject = rendered.Subject;
        message.Date = at;
        message.MessageId = MessageIdentity.MessageId(outbound.DeliveryId, outbound.ProfileId, outbound.Attempt, bounceDomain);
        if (proof)
        {
            message.Headers.Add("Feedback-ID", MessageTracking.FeedbackId(outbound.DeliveryId, bounceDomain));
        }
        else
        {
            MessageTracking.AddHeaders(message, outbound, links, bounceDomain);
        }

        var body = new BodyBuilder
        {
            TextBody = rendered.Text,
            HtmlBody = HtmlOf(rendered, content ?? MessageContent.Default, links),
        };
        message.Body = body.ToMessageBody();
        var sender = new MailboxAddress("", MessageIdentity.EnvelopeSender(outbound.DeliveryId, outbound.ProfileId, bounceDomain));
        return (message, sender);
    }

    /// <summary>
    /// The HTML part as the recipient got it (null without one): rendered with its signed links, then
    /// tracked (R13.1). The mirror page (R14.3) shows what this returns, so both always agree.
    /// </summary>
    public static string? HtmlBody(OutboundMessage outbound, TrackedLinks links)
    {
        var rendered = Render(outbound, links, links.UnsubscribeUrl);
        return HtmlOf(rendered, outbound.Mta.Content ?? MessageContent.Default, links);
    }

    /// <summary>The text part as the recipient got it: the mirror page of a message without HTML.</summary>
    public static string? TextBody(OutboundMessage outbound, TrackedLinks links) => Render(outbound, links, links.UnsubscribeUrl).Text;

    /// <summary>
    /// Renders the content; with signed links and tracked content, the HTML part comes tracked from the
    /// content's tracked form made once (R13.1) when it has one, and is rewritten after rendering otherwise.
    /// </summary>
    private static RenderedContent Render(OutboundMessage outbound, TrackedLinks? links, string unsubscribeFallback) =>
        ContentTemplate.For(outbound.Mta.Content).Render(
            new RecipientValues(outbound.ProfileId, outbound.Address, outbound.Fields),
            new ContentLinks(links?.UnsubscribeUrl ?? unsubscribeFallback, links?.MirrorPageUrl ?? ""),
            links is not null && (outbound.Mta.Content ?? MessageContent.Default).Tracked ? new HtmlTracking(links.ClickUrl, links.OpenUrl, links.ContentLinkUrl) : null);

    private static string? HtmlOf(RenderedContent rendered, MessageContent content, TrackedLinks? links) =>
        rendered.Html is null ? null
        : rendered.HtmlTracked ? rendered.Html
        : MessageTracking.Track(rendered.Html, content, links);
}
