using System.Net;
using System.Text.RegularExpressions;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Tracking;
using MimeKit;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// Builds the real message of one attempt (R12.1) with MimeKit: From, To, Subject, Date, a
/// Message-ID and a VERP envelope sender naming the log (<see cref="MessageIdentity"/>),
/// List-Unsubscribe, and the delivery's content as plain text and HTML, personalized from the
/// recipient: <c>{{profileId}}</c>, <c>{{address}}</c> (or <c>{{email}}</c>) and any field of the
/// target (<c>{{firstName}}</c>), names compared without case; <c>{{name|fallback}}</c> gives the text
/// for a recipient without that field. Values are HTML-encoded in the HTML part.
/// </summary>
public sealed partial class SmtpMessageFactory(MailboxAddress from, string bounceDomain)
{
    public static SmtpMessageFactory From(SmtpOptions options) =>
        new(MailboxAddress.Parse(options.From!), options.BounceDomain!);

    public string BounceDomain => bounceDomain;

    /// <summary>
    /// The message of one attempt; with <paramref name="signer"/> (R13) it carries the one-click
    /// unsubscribe headers and, when the content is tracked, tracked links and the open pixel.
    /// </summary>
    public (MimeMessage Message, MailboxAddress Sender) Build(OutboundMessage outbound, DateTimeOffset at, LinkSigner? signer = null)
    {
        var content = outbound.Mta.Content ?? MessageContent.Default;
        var subject = Fill(content.Subject ?? MessageContent.Default.Subject!, outbound, html: false);
        var text = content.Text ?? (content.Html is null ? MessageContent.Default.Text : null);
        var html = content.Html;

        var message = new MimeMessage();
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(outbound.Address));
        message.Subject = subject;
        message.Date = at;
        message.MessageId = MessageIdentity.MessageId(outbound.DeliveryId, outbound.ProfileId, outbound.Attempt, bounceDomain);
        var links = signer is null ? null : MessageTracking.LinksOf(signer, outbound);
        MessageTracking.AddHeaders(message, outbound, links, bounceDomain);
        var body = new BodyBuilder
        {
            TextBody = text is null ? null : Fill(text, outbound, html: false),
            HtmlBody = HtmlBody(outbound, links),
        };
        message.Body = body.ToMessageBody();
        var sender = new MailboxAddress("", MessageIdentity.EnvelopeSender(outbound.DeliveryId, outbound.ProfileId, bounceDomain));
        return (message, sender);
    }

    /// <summary>
    /// The HTML part as the recipient gets it (null without one): filled, then tracked (R13.1). The
    /// mirror page shows what this returns, so both always agree.
    /// </summary>
    public static string? HtmlBody(OutboundMessage outbound, MessageLinks? links)
    {
        var content = outbound.Mta.Content ?? MessageContent.Default;
        return content.Html is null ? null : MessageTracking.Track(Fill(content.Html, outbound, html: true), content, links);
    }

    /// <summary>Replaces each <c>{{name}}</c> or <c>{{name|fallback}}</c> with the recipient's value.</summary>
    public static string Fill(string template, OutboundMessage outbound, bool html)
    {
        if (!template.Contains("{{", StringComparison.Ordinal))
        {
            return template;
        }

        return Placeholder().Replace(template, m =>
        {
            var value = ValueOf(m.Groups["name"].Value, outbound) ?? (m.Groups["fallback"].Success ? m.Groups["fallback"].Value : "");
            return html ? WebUtility.HtmlEncode(value) : value;
        });
    }

    private static string? ValueOf(string name, OutboundMessage outbound)
    {
        if (name.Equals("profileId", StringComparison.OrdinalIgnoreCase))
        {
            return outbound.ProfileId;
        }

        if (name.Equals("address", StringComparison.OrdinalIgnoreCase) || name.Equals("email", StringComparison.OrdinalIgnoreCase))
        {
            return outbound.Address;
        }

        if (outbound.Fields is { } fields)
        {
            foreach (var (key, value) in fields)
            {
                if (key.Equals(name, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(value))
                {
                    return value;
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z0-9_.-]+)\s*(\|(?<fallback>[^}]*))?\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
