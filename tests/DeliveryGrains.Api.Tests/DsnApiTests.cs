using System.Net;
using System.Text;

namespace DeliveryGrains.Api.Tests;

/// <summary><c>POST /api/mta/dsn</c> (R12.4) and the SMTP kind's checks at creation.</summary>
[Collection(ApiCollection.Name)]
public sealed class DsnApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private static StringContent Raw(string message) => new(message, Encoding.ASCII, "message/rfc822");

    /// <summary>A failed report (RFC 3464) sent to the VERP address of one log.</summary>
    private static string HardReport(string deliveryId, string profileId, string reportId) =>
        "From: MAILER-DAEMON@mx.example.net\r\n" +
        $"To: bounces+{deliveryId}.{profileId}@bounces.example.com\r\n" +
        "Subject: Undelivered Mail Returned to Sender\r\n" +
        $"Message-ID: <{reportId}@mx.example.net>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n" +
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
        "Reporting-MTA: dns; mx.example.net\r\n\r\n" +
        "Final-Recipient: rfc822; someone@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--B--\r\n";

    [Fact, Trait("Rule", "R12.4")]
    public async Task A_hard_report_fails_its_log_and_the_same_report_again_is_a_duplicate()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 2));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 2);
        var report = HardReport(id, "p-0", Guid.NewGuid().ToString("N"));

        var first = await Mta.PostAsync("/api/mta/dsn", Raw(report)).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal((1, 0, 0), (first.GetProperty("accepted").GetInt32(), first.GetProperty("duplicates").GetInt32(), first.GetProperty("rejected").GetArrayLength()));
        var log = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Failed", "Hard", "UserUnknown"),
            (log.GetProperty("status").GetString(), log.GetProperty("failureType").GetString(), log.GetProperty("failureReason").GetString()));
        await Admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1);

        var again = await Mta.PostAsync("/api/mta/dsn", Raw(report)).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal((0, 1), (again.GetProperty("accepted").GetInt32(), again.GetProperty("duplicates").GetInt32()));
    }

    [Fact, Trait("Rule", "R12.4")]
    public async Task An_unmatched_or_malformed_report_is_rejected_with_a_reason()
    {
        var unmatched = await Mta.PostAsync("/api/mta/dsn", Raw(HardReport("nosuchdelivery", "p-0", Guid.NewGuid().ToString("N")))).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal(0, unmatched.GetProperty("accepted").GetInt32());
        var rejection = unmatched.GetProperty("rejected")[0];
        Assert.Equal(0, rejection.GetProperty("index").GetInt32());
        Assert.Contains("no relayed message", rejection.GetProperty("error").GetString());

        var malformed = await Mta.PostAsync("/api/mta/dsn", Raw("Subject: hello\r\n\r\nnot a report\r\n")).ExpectAsync(HttpStatusCode.Accepted);
        Assert.Contains("multipart/report", malformed.GetProperty("rejected")[0].GetProperty("error").GetString());

        var empty = await Mta.PostAsync("/api/mta/dsn", Raw("")).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("message/rfc822", empty.GetRawText());
    }

    [Fact, Trait("Rule", "R12.3")]
    public async Task The_domain_view_counts_each_domain()
    {
        var id = await Admin.StartAsync(Bodies.Delivery(recipients: 3));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 3);
        var domains = await host.Client(ApiHostFixture.MtaKey).GetAsync($"/api/deliveries/{id}/domains").ExpectAsync(HttpStatusCode.OK);
        var only = Assert.Single(domains.EnumerateArray());
        Assert.Equal("example.test", only.GetProperty("domain").GetString());
        Assert.Equal((3, 3, 3, 0, 0), (only.GetProperty("toDeliver").GetInt32(), only.GetProperty("sent").GetInt32(), only.GetProperty("delivered").GetInt32(),
            only.GetProperty("bouncesAndErrors").GetInt32(), only.GetProperty("deferrals").GetInt32()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, only.GetProperty("rateCapPerMinute").ValueKind);

        await Admin.GetAsync("/api/deliveries/nosuchdelivery/domains").ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact, Trait("Rule", "R1.1")]
    public async Task Posting_a_report_needs_the_MtaFeedback_role() =>
        await host.Client(ApiHostFixture.MarketerKey).PostAsync("/api/mta/dsn", Raw(HardReport("x", "p-0", "r"))).ExpectAsync(HttpStatusCode.Forbidden);
}
