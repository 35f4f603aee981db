using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;
using MimeKit;

namespace DeliveryGrains.Benchmarks;

/// <summary>
/// R14.1 on the SMTP hot path: one message rendered from a 20 KB HTML template with 10 fields and 10
/// links and built as MIME, against the regular-expression fill it replaced (kept here as the baseline).
/// </summary>
[MemoryDiagnoser]
public partial class ContentBenchmarks
{
    private const int Recipients = 256;
    private readonly OutboundMessage[] _messages = new OutboundMessage[Recipients];
    private readonly SmtpMessageFactory _factory = new(MailboxAddress.Parse("News <news@example.com>"), "bounces.example.com");
    private MessageContent _liquid = null!;
    private MessageContent _oldForm = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_liquid, _oldForm) = (Template(liquid: true), Template(liquid: false));
        var mta = new MtaSettings(MtaKind.Smtp, Content: _liquid);
        for (var i = 0; i < Recipients; i++)
        {
            var fields = Enumerable.Range(0, 10).ToDictionary(f => $"field{f}", f => $"value {f} of recipient {i} & co");
            _messages[i] = new OutboundMessage("d", 0, i, $"p-{i}", $"user{i}@example.test", Channel.Email, 1, false, mta, fields);
        }
    }

    /// <summary>Render (Liquid, text part from the HTML) and MIME build of one message.</summary>
    [Benchmark(OperationsPerInvoke = Recipients)]
    public int RenderAndBuild()
    {
        var size = 0;
        foreach (var message in _messages)
        {
            size += _factory.Build(message, DateTimeOffset.UnixEpoch).Message.Subject?.Length ?? 0;
        }

        return size;
    }

    /// <summary>The regular-expression fill of the HTML and a MIME build with a text part given, as before R14.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Recipients)]
    public int RegexFillAndBuild()
    {
        var size = 0;
        foreach (var m in _messages)
        {
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("News <news@example.com>"));
            message.To.Add(MailboxAddress.Parse(m.Address));
            message.Subject = Fill(_oldForm.Subject!, m, html: false);
            message.Body = new BodyBuilder { TextBody = Fill(_oldForm.Text!, m, html: false), HtmlBody = Fill(_oldForm.Html!, m, html: true) }.ToMessageBody();
            size += message.Subject?.Length ?? 0;
        }

        return size;
    }

    /// <summary>About 20 KB of HTML naming each of the 10 fields twice and holding 10 links.</summary>
    private static MessageContent Template(bool liquid)
    {
        string Field(int f) => liquid ? $"{{{{ field{f} | default: \"friend\" }}}}" : $"{{{{field{f}|friend}}}}";
        var html = new StringBuilder("<html><body>");
        while (html.Length < 20_000)
        {
            for (var f = 0; f < 10 && html.Length < 20_000; f++)
            {
                html.Append("<p>Dear ").Append(Field(f)).Append(", this paragraph tells you about our offers in some detail, as a newsletter does. ")
                    .Append("<a href=\"https://shop.example/offer/").Append(f).Append("?p=").Append(liquid ? "{{ profileId }}" : "{{profileId}}").Append("\">Offer ").Append(f).Append("</a></p>\n");
            }
        }

        html.Append("</body></html>");
        return new MessageContent($"News for {Field(0)}", liquid ? null : "Hello {{field0|friend}}, see the offers on the web.", html.ToString());
    }

    private static string Fill(string template, OutboundMessage outbound, bool html) =>
        Placeholder().Replace(template, m =>
        {
            var name = m.Groups["name"].Value;
            var value = name.Equals("profileId", StringComparison.OrdinalIgnoreCase) ? outbound.ProfileId
                : outbound.Fields?.FirstOrDefault(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value
                ?? (m.Groups["fallback"].Success ? m.Groups["fallback"].Value : "");
            return html ? WebUtility.HtmlEncode(value) : value;
        });

    [GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z0-9_.-]+)\s*(\|(?<fallback>[^}]*))?\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
