using DeliveryGrains.Content;
using MimeKit;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// Builds the real message of one attempt (R12.1) with MimeKit: From (with the content's display
/// name), To, Subject, Date, a Message-ID and a VERP envelope sender naming the log
/// (<see cref="MessageIdentity"/>), List-Unsubscribe, and the delivery's content as plain text and
/// HTML, rendered for the recipient by <see cref="ContentTemplate"/> (R14.1, R14.2).
/// </summary>
public sealed class SmtpMessageFactory(MailboxAddress from, string bounceDomain)
{
    public static SmtpMessageFactory From(SmtpOptions options) =>
        new(MailboxAddress.Parse(options.From!), options.BounceDomain!);

    public string BounceDomain => bounceDomain;

    /// <summary>Renders and builds the message; a template that hits a bound throws <see cref="TemplateRenderException"/>.</summary>
    public (MimeMessage Message, MailboxAddress Sender) Build(OutboundMessage outbound, DateTimeOffset at)
    {
        var content = outbound.Mta.Content;
        var unsubscribe = MessageIdentity.Unsubscribe(outbound.DeliveryId, outbound.ProfileId, bounceDomain);
        var rendered = ContentTemplate.For(content).Render(
            new RecipientValues(outbound.ProfileId, outbound.Address, outbound.Fields),
            new MessageLinks($"mailto:{unsubscribe}", ""));

        var message = new MimeMessage();
        // A fresh address per message: an address list subscribes to its addresses' change events, so one
        // shared From would keep every message ever built alive through its handler list.
        message.From.Add(new MailboxAddress(string.IsNullOrWhiteSpace(content?.FromName) ? from.Name : content.FromName, from.Address));
        message.To.Add(MailboxAddress.Parse(outbound.Address));
        message.Subject = rendered.Subject;
        message.Date = at;
        message.MessageId = MessageIdentity.MessageId(outbound.DeliveryId, outbound.ProfileId, outbound.Attempt, bounceDomain);
        message.Headers.Add("List-Unsubscribe", $"<mailto:{unsubscribe}>");
        var body = new BodyBuilder
        {
            TextBody = rendered.Text,
            HtmlBody = rendered.Html,
        };
        message.Body = body.ToMessageBody();
        var sender = new MailboxAddress("", MessageIdentity.EnvelopeSender(outbound.DeliveryId, outbound.ProfileId, bounceDomain));
        return (message, sender);
    }
}
