using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MailKit.Net.Smtp;
using MimeKit;

namespace DeliveryGrains.Api.Tests;

/// <summary>R13.5: abuse reports (ARF) through <c>POST /api/mta/arf</c> and the inbound listener.</summary>
[Collection(ApiCollection.Name)]
public sealed class ArfApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private static StringContent Raw(string message) => new(message, Encoding.ASCII, "message/rfc822");

    /// <summary>An RFC 5965 report; <paramref name="original"/> is the third part (null: none) and <paramref name="originalMailFrom"/> a field of the second.</summary>
    private static string Report(string reportId, string? original, string originalType = "message/rfc822", string? originalMailFrom = null) =>
        "From: fbl@isp.example.net\r\n" +
        "To: fbl@bounces.example.com\r\n" +
        "Subject: FW: complaint\r\n" +
        $"Message-ID: <{reportId}@isp.example.net>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/report; report-type=feedback-report; boundary=\"R\"\r\n\r\n" +
        "--R\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n\r\n" +
        "--R\r\nContent-Type: message/feedback-report\r\n\r\n" +
        "Feedback-Type: abuse\r\nUser-Agent: isp-fbl/1.0\r\nVersion: 1\r\n" +
        (originalMailFrom is null ? "" : $"Original-Mail-From: <{originalMailFrom}>\r\n") +
        "\r\n" +
        (original is null ? "" : $"--R\r\nContent-Type: {originalType}\r\n\r\n{original}\r\n") +
        "--R--\r\n";

    private async Task<(string Id, string[] Addresses)> StartSmtpAsync(int recipients)
    {
        var body = Bodies.Delivery(recipients, b => b["mta"] = new JsonObject { ["kind"] = "Smtp" });
        var addresses = body["recipients"]!.AsArray().Select(r => r!["address"]!.GetValue<string>()).ToArray();
        var id = await Admin.StartAsync(body);
        await Admin.UntilAsync(id, v => v.Kpi("sent") == recipients);
        return (id, addresses);
    }

    [Fact, Trait("Rule", "R13.5")]
    public async Task A_report_returning_the_original_message_records_a_complaint_once_and_denylists_the_address()
    {
        var (id, addresses) = await StartSmtpAsync(2);
        var (_, raw) = await host.Smtp.MessageToAsync(addresses[0]);
        var report = Report(Unique.Id(), Encoding.ASCII.GetString(raw));

        var first = await Mta.PostAsync("/api/mta/arf", Raw(report)).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal((1, 0, 0), (first.GetProperty("accepted").GetInt32(), first.GetProperty("duplicates").GetInt32(), first.GetProperty("rejected").GetArrayLength()));
        await Admin.AddressUntilAsync(addresses[0], r => r.Str("status") == "OnDenylist");
        await Admin.UntilAsync(id, v => v.Kpi("complaints") == 1);

        var again = await Mta.PostAsync("/api/mta/arf", Raw(report)).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal((0, 1), (again.GetProperty("accepted").GetInt32(), again.GetProperty("duplicates").GetInt32()));
        Assert.Equal("Valid", (await Admin.AddressAsync(addresses[1])).Str("status"));
        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, kpis.GetProperty("complaints").GetInt64());
    }

    [Fact, Trait("Rule", "R13.5")]
    public async Task A_report_with_headers_only_reaching_any_inbound_address_records_the_complaint()
    {
        var (id, addresses) = await StartSmtpAsync(1);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        var headers = $"From: news@sender.example.com\r\nTo: {addresses[0]}\r\nSubject: {message.Subject}\r\nMessage-ID: <{message.MessageId}>\r\n";
        var report = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(Report(Unique.Id(), headers, "text/rfc822-headers"))));

        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", host.InboundPort, MailKit.Security.SecureSocketOptions.None);
        await client.SendAsync(report, MailboxAddress.Parse("fbl@isp.example.net"), [MailboxAddress.Parse($"fbl@{ApiHostFixture.BounceDomain}")]);

        // A report naming nothing of ours is refused with the reason, on the wire too.
        var stray = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(Report(Unique.Id(), "From: a@b.example\r\nMessage-ID: <elsewhere@b.example>\r\n"))));
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            client.SendAsync(stray, MailboxAddress.Parse("fbl@isp.example.net"), [MailboxAddress.Parse($"abuse@{ApiHostFixture.BounceDomain}")]));
        Assert.Contains("names no sending log", refused.Message);
        await client.DisconnectAsync(true);

        await Admin.AddressUntilAsync(addresses[0], r => r.Str("status") == "OnDenylist");
        await Admin.UntilAsync(id, v => v.Kpi("complaints") == 1);
    }

    [Fact, Trait("Rule", "R13.5")]
    public async Task A_report_found_by_its_original_mail_from_needs_no_original_part()
    {
        var (id, addresses) = await StartSmtpAsync(1);
        var verp = $"bounces+{id}.p-0@{ApiHostFixture.BounceDomain}";
        var answer = await Mta.PostAsync("/api/mta/arf", Raw(Report(Unique.Id(), null, originalMailFrom: verp))).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal(1, answer.GetProperty("accepted").GetInt32());
        await Admin.AddressUntilAsync(addresses[0], r => r.Str("status") == "OnDenylist");
    }

    [Fact, Trait("Rule", "R13.5")]
    public async Task A_report_without_the_original_or_naming_no_log_is_rejected_with_its_reason_and_changes_nothing()
    {
        var (id, addresses) = await StartSmtpAsync(1);

        var bare = await Mta.PostAsync("/api/mta/arf", Raw(Report(Unique.Id(), null))).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal(0, bare.GetProperty("accepted").GetInt32());
        Assert.Contains("neither the original message nor its headers", bare.GetProperty("rejected")[0].GetProperty("error").GetString());

        var foreign = await Mta.PostAsync("/api/mta/arf", Raw(Report(Unique.Id(), "From: a@b.example\r\nMessage-ID: <x@b.example>\r\n\r\nhi"))).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Contains("names no sending log", foreign.GetProperty("rejected")[0].GetProperty("error").GetString());

        var unknown = await Mta.PostAsync("/api/mta/arf", Raw(Report(Unique.Id(), null, originalMailFrom: $"bounces+{id}.p-7@{ApiHostFixture.BounceDomain}"))).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Contains("no relayed message", unknown.GetProperty("rejected")[0].GetProperty("error").GetString());

        var dsn = await Mta.PostAsync("/api/mta/arf", Raw("Subject: hello\r\n\r\nnot a report\r\n")).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Contains("feedback-report", dsn.GetProperty("rejected")[0].GetProperty("error").GetString());

        var empty = await Mta.PostAsync("/api/mta/arf", Raw("")).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("message/rfc822", empty.GetRawText());

        await Mta.PostAsync("/api/mta/dsn", Raw("")).ExpectAsync(HttpStatusCode.BadRequest);
        await host.Client(ApiHostFixture.MarketerKey).PostAsync("/api/mta/arf", Raw(Report(Unique.Id(), null))).ExpectAsync(HttpStatusCode.Forbidden);

        Assert.Equal("Valid", (await Admin.AddressAsync(addresses[0])).Str("status"));
        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, kpis.GetProperty("complaints").GetInt64());
    }
}
