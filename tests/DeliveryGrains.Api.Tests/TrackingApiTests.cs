using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using DeliveryGrains.Tracking;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// R13 end to end: a delivery relayed over SMTP to the capturing server; its click, pixel and
/// unsubscribe URLs are read from the captured message itself, then followed as a mail client and a
/// browser would, with no key.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed partial class TrackingApiTests(ApiHostFixture host)
{
    private const string Shop = "https://shop.example/p?x=1&y=été#frag";
    private const string Second = "https://shop.example/second";

    private static readonly string Html =
        "<p>Hello {{firstName|there}}</p>"
        + "<a href=\"https://shop.example/p?x=1&amp;y=été#frag\">Shop</a> "
        + "<a href=\"mailto:help@example.test\">Write</a> <a href=\"tel:+15550001\">Call</a> <a href=\"#top\">Top</a> "
        + "<a data-no-track href=\"https://untracked.example/\">Untracked</a> "
        + $"<a href=\"{Second}\">Second</a>";

    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    /// <summary>A browser without a key that does not follow redirects, so the 302 itself is seen.</summary>
    private HttpClient Browser() => new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };

    /// <summary>Starts an SMTP delivery to <paramref name="recipients"/> profiles; answers its id and the recipients' addresses.</summary>
    private async Task<(string Id, string[] Addresses)> StartSmtpAsync(int recipients = 2, bool? tracking = null)
    {
        var body = Bodies.Delivery(recipients, b =>
        {
            b["mta"] = new JsonObject { ["kind"] = "Smtp" };
            var content = new JsonObject { ["subject"] = "Hi {{firstName}}", ["html"] = Html };
            if (tracking is { } on)
            {
                content["tracking"] = on;
            }

            b["content"] = content;
        });
        var addresses = body["recipients"]!.AsArray().Select(r => r!["address"]!.GetValue<string>()).ToArray();
        var id = await Admin.StartAsync(body);
        await Admin.UntilAsync(id, v => v.Kpi("sent") == recipients);
        return (id, addresses);
    }

    private static IReadOnlyList<string> Hrefs(string? html) => [.. HrefPattern().Matches(html ?? "").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    private static string PixelOf(string? html) => WebUtility.HtmlDecode(PixelPattern().Match(html ?? "").Groups[1].Value);

    private string PathOf(string url)
    {
        var uri = new Uri(url);
        Assert.Equal(host.BaseAddress.Port, uri.Port);
        return uri.PathAndQuery;
    }

    [Fact, Trait("Rule", "R13.1")]
    public async Task Http_links_are_rewritten_to_signed_click_urls_and_a_pixel_ends_the_body()
    {
        var (_, addresses) = await StartSmtpAsync(1);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        var hrefs = Hrefs(message.HtmlBody);

        Assert.Equal(6, hrefs.Count);
        Assert.StartsWith($"http://127.0.0.1:{host.BaseAddress.Port}/t/c/", hrefs[0]);
        Assert.Equal(["mailto:help@example.test", "tel:+15550001", "#top", "https://untracked.example/"], hrefs.Skip(1).Take(4));
        Assert.StartsWith($"http://127.0.0.1:{host.BaseAddress.Port}/t/c/", hrefs[5]);
        Assert.DoesNotContain("shop.example", message.HtmlBody!);
        Assert.Contains("/t/o/", PixelOf(message.HtmlBody));
        Assert.True(message.HtmlBody!.TrimEnd().EndsWith('>') && message.HtmlBody.LastIndexOf("<img", StringComparison.Ordinal) > message.HtmlBody.LastIndexOf("Second", StringComparison.Ordinal));
    }

    [Fact, Trait("Rule", "R13.1")]
    public async Task Tracking_off_leaves_the_html_as_written()
    {
        var (_, addresses) = await StartSmtpAsync(1, tracking: false);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        Assert.Contains("https://shop.example/p?x=1&amp;y=", message.HtmlBody!);
        Assert.DoesNotContain("/t/o/", message.HtmlBody!);
    }

    [Fact, Trait("Rule", "R13.2")]
    public async Task A_click_redirects_to_the_exact_url_and_the_pixel_records_an_open_once_per_request()
    {
        var (id, addresses) = await StartSmtpAsync(2);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        var hrefs = Hrefs(message.HtmlBody);
        using var browser = Browser();

        using (var pixel = await browser.GetAsync(PathOf(PixelOf(message.HtmlBody))))
        {
            Assert.Equal(HttpStatusCode.OK, pixel.StatusCode);
            Assert.Equal("image/gif", pixel.Content.Headers.ContentType?.MediaType);
            Assert.True(pixel.Headers.CacheControl?.NoStore);
            Assert.Equal("GIF89a", Encoding.ASCII.GetString((await pixel.Content.ReadAsByteArrayAsync())[..6]));
        }

        var opened = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((true, false), (opened.GetProperty("opened").GetBoolean(), opened.GetProperty("clicked").GetBoolean()));

        for (var n = 0; n < 2; n++)
        {
            using var click = await browser.GetAsync(PathOf(hrefs[0]));
            Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
            Assert.Equal(Shop, Uri.UnescapeDataString(click.Headers.Location!.OriginalString));
        }

        using (var second = await browser.GetAsync(PathOf(hrefs[5])))
        {
            Assert.Equal(Second, second.Headers.Location!.OriginalString);
        }

        // The other recipient clicks the first link only: a click counts as an open (R8.4).
        var (other, _) = await host.Smtp.MessageToAsync(addresses[1]);
        using (var click = await browser.GetAsync(PathOf(Hrefs(other.HtmlBody)[0])))
        {
            Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
        }

        var log = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((true, true), (log.GetProperty("opened").GetBoolean(), log.GetProperty("clicked").GetBoolean()));

        // R13.3: per link, in the message's order.
        var links = await Admin.GetAsync($"/api/deliveries/{id}/links").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([(Shop, 3L, 2L), (Second, 1L, 1L)],
            links.EnumerateArray().Select(l => (l.Str("url"), l.GetProperty("clicks").GetInt64(), l.GetProperty("uniqueClicks").GetInt64())));

        // R8.4, R8.7: two recipients opened, both clicked.
        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((2L, 2L), (kpis.GetProperty("opens").GetInt64(), kpis.GetProperty("clicks").GetInt64()));
    }

    [Fact, Trait("Rule", "R13.1")]
    public async Task A_tampered_unsigned_or_misused_token_is_404_never_a_redirect_and_changes_nothing()
    {
        var (id, addresses) = await StartSmtpAsync(1);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        var click = PathOf(Hrefs(message.HtmlBody)[0]);
        var pixel = PathOf(PixelOf(message.HtmlBody));
        using var browser = Browser();

        var token = click["/t/c/".Length..];
        var flipped = token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..];
        string[] bad =
        [
            "/t/c/" + flipped,
            "/t/c/" + token[..^2],
            "/t/c/not-a-token",
            "/t/c/" + new string('A', 5000),
            "/t/c/" + pixel["/t/o/".Length..],
            "/t/o/" + token,
        ];
        foreach (var path in bad)
        {
            using var answer = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Null(answer.Headers.Location);
        }

        var log = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((false, false), (log.GetProperty("opened").GetBoolean(), log.GetProperty("clicked").GetBoolean()));
        Assert.Empty((await Admin.GetAsync($"/api/deliveries/{id}/links").ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
    }

    [Fact, Trait("Rule", "R13.1")]
    public async Task A_content_link_names_its_index_only_an_old_token_still_redirects_an_unknown_index_is_404()
    {
        var (id, addresses) = await StartSmtpAsync(1);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        var key = (await host.Services.GetRequiredService<TrackingKeys>().SignerAsync()).Key;
        var click = PathOf(Hrefs(message.HtmlBody)[5]);
        var claims = TrackingToken.Read(click["/t/c/".Length..], TokenKind.Click, key)!;
        using var browser = Browser();

        // The links are fixed in the content: the token names the link's index, not its URL.
        Assert.Equal((1, (string?)null), (claims.Link, claims.Url));

        // Signed by us for a link the content does not have: nothing to redirect to, nothing recorded.
        using (var unknown = await browser.GetAsync("/t/c/" + TrackingToken.Create(claims with { Link = 2 }, key)))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Null(unknown.Headers.Location);
        }

        var untouched = await Admin.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.False(untouched.GetProperty("clicked").GetBoolean());

        // A version 1 token, as mail sent before carries it, still redirects to the URL it holds and counts.
        var old = Version1(claims with { Link = 0, Url = Shop }, key);
        using (var redirect = await browser.GetAsync("/t/c/" + old))
        {
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Equal(Shop, Uri.UnescapeDataString(redirect.Headers.Location!.OriginalString));
        }

        using (var second = await browser.GetAsync(click))
        {
            Assert.Equal(Second, second.Headers.Location!.OriginalString);
        }

        var links = await Admin.GetAsync($"/api/deliveries/{id}/links").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([(Shop, 1L), (Second, 1L)], links.EnumerateArray().Select(l => (l.Str("url"), l.GetProperty("clicks").GetInt64())));
    }

    /// <summary>A click token as version 1 wrote it: the form of links in mail sent before version 2.</summary>
    private static string Version1(TrackingClaims claims, byte[] key) => DeliveryGrains.TestKit.Tracking.VersionOneTokens.Create(
        (byte)claims.Kind, claims.DeliveryId, claims.Partition, claims.RecipientIndex, claims.ProfileId, claims.Link, claims.Url, key);

    [Fact, Trait("Rule", "R13.4")]
    public async Task One_click_unsubscribe_denylists_the_address_a_get_or_another_body_changes_nothing()
    {
        var (id, addresses) = await StartSmtpAsync(1);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[0]);
        var header = message.Headers["List-Unsubscribe"];
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        var targets = UnsubscribeTargets().Matches(header ?? "").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, targets.Count);
        Assert.StartsWith("mailto:unsubscribe+", targets[1]);
        var url = PathOf(targets[0]);
        using var browser = Browser();

        using (var page = await browser.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("<form method=\"post\">", html);
            Assert.Single(ButtonPattern().Matches(html));
        }

        using (var wrong = await browser.PostAsync(url, new FormUrlEncodedContent([new("List-Unsubscribe", "Yes")])))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("List-Unsubscribe=One-Click", await wrong.Content.ReadAsStringAsync());
        }

        using (var json = await browser.PostAsync(url, new StringContent("{\"List-Unsubscribe\":\"One-Click\"}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        }

        Assert.Equal("Valid", (await Admin.AddressAsync(addresses[0])).Str("status"));
        Assert.Equal(0, (await Admin.ViewAsync(id)).Kpi("unsubscriptions"));

        using (var done = await browser.PostAsync(url, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }

        var record = await Admin.AddressAsync(addresses[0]);
        Assert.Equal(("OnDenylist", "Unsubscribed"), (record.Str("status"), record.Str("reason")));
        await Admin.UntilAsync(id, v => v.Kpi("unsubscriptions") == 1);

        // Once per recipient, however often it is asked.
        using (var again = await browser.PostAsync(url, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, kpis.GetProperty("unsubscriptions").GetInt64());
    }

    [Fact, Trait("Rule", "R13.4")]
    public async Task Mail_to_the_unsubscribe_address_denylists_and_one_naming_no_message_is_refused()
    {
        var (id, addresses) = await StartSmtpAsync(2);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[1]);
        var mailto = UnsubscribeTargets().Matches(message.Headers["List-Unsubscribe"] ?? "")[1].Groups[1].Value["mailto:".Length..];

        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", host.InboundPort, MailKit.Security.SecureSocketOptions.None);
        var request = new MimeMessage { Subject = "unsubscribe", Body = new TextPart("plain") { Text = "unsubscribe" } };
        request.From.Add(MailboxAddress.Parse(addresses[1]));
        request.To.Add(MailboxAddress.Parse(mailto));
        await client.SendAsync(request);

        var record = await Admin.AddressAsync(addresses[1]);
        Assert.Equal(("OnDenylist", "Unsubscribed"), (record.Str("status"), record.Str("reason")));
        await Admin.UntilAsync(id, v => v.Kpi("unsubscriptions") == 1);

        // A profile of the same delivery that got nothing: refused with the reason, nothing changes.
        var nobody = new MimeMessage { Subject = "unsubscribe", Body = new TextPart("plain") { Text = "unsubscribe" } };
        nobody.From.Add(MailboxAddress.Parse(addresses[0]));
        nobody.To.Add(MailboxAddress.Parse($"unsubscribe+{id}.p-9@{ApiHostFixture.BounceDomain}"));
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(nobody));
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, refused.StatusCode);
        Assert.Contains("no relayed message", refused.Message);
        await client.DisconnectAsync(true);

        Assert.Equal("Valid", (await Admin.AddressAsync(addresses[0])).Str("status"));
        var kpis = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, kpis.GetProperty("unsubscriptions").GetInt64());
    }

    [Fact, Trait("Rule", "R13.6")]
    public async Task A_relayed_message_is_dkim_signed_as_the_client_s_record_publishes_and_names_its_delivery()
    {
        var (id, addresses) = await StartSmtpAsync(1);
        var (message, raw) = await host.Smtp.MessageToAsync(addresses[0]);
        Assert.Contains($"d={ApiHostFixture.DkimDomain}", message.Headers["DKIM-Signature"]);
        Assert.StartsWith($"{id}:", message.Headers["Feedback-ID"]);

        // The record `dkim-record` prints for the silo's key is the one an independent verifier accepts.
        var txt = DeliveryGrains.Client.Commands.DkimRecord.Value(host.DkimKeyPem);
        Assert.StartsWith($"{ApiHostFixture.DkimSelector}._domainkey.{ApiHostFixture.DkimDomain}. IN TXT \"v=DKIM1; k=rsa; p=",
            DeliveryGrains.Client.Commands.DkimRecord.Of(host.DkimKeyPem, ApiHostFixture.DkimSelector, ApiHostFixture.DkimDomain));
        Assert.True(await DeliveryGrains.TestKit.Dkim.IndependentDkim.VerifiesAsync(raw, txt));

        var text = Encoding.ASCII.GetString(raw);
        var at = text.IndexOf("Hello there", StringComparison.Ordinal);
        Assert.True(at > 0, text);
        var changed = Encoding.ASCII.GetBytes(string.Concat(text.AsSpan(0, at), "Hello THERE", text.AsSpan(at + "Hello there".Length)));
        Assert.False(await DeliveryGrains.TestKit.Dkim.IndependentDkim.VerifiesAsync(changed, txt));
    }

    [Fact, Trait("Rule", "R13.1")]
    public async Task The_mirror_page_shows_the_html_as_the_recipient_got_it_sandboxed()
    {
        var (_, addresses) = await StartSmtpAsync(2);
        var (message, _) = await host.Smtp.MessageToAsync(addresses[1]);

        // The mirror link names the same message as the unsubscribe link the message carries.
        var keys = host.Services.GetRequiredService<TrackingKeys>();
        var signer = await keys.SignerAsync();
        var unsubscribe = UnsubscribeTargets().Matches(message.Headers["List-Unsubscribe"] ?? "")[0].Groups[1].Value;
        var claims = TrackingToken.Read(unsubscribe[(unsubscribe.LastIndexOf('/') + 1)..], TokenKind.Unsubscribe, signer.Key)!;
        var mirror = signer.For(claims.DeliveryId, claims.Partition, claims.RecipientIndex, claims.ProfileId).MirrorPageUrl;
        using var browser = Browser();

        using (var page = await browser.GetAsync(PathOf(mirror)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith("sandbox", page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal(message.HtmlBody!.ReplaceLineEndings(), (await page.Content.ReadAsStringAsync()).ReplaceLineEndings());
        }

        var path = PathOf(mirror);
        using var tampered = await browser.GetAsync(path[..^3] + (path[^3] == 'A' ? "B" : "A") + path[^2..]);
        Assert.Equal(HttpStatusCode.NotFound, tampered.StatusCode);
    }

    [GeneratedRegex("<a [^>]*href=\"([^\"]*)\"")]
    private static partial Regex HrefPattern();

    [GeneratedRegex("<img [^>]*src=\"([^\"]*)\"")]
    private static partial Regex PixelPattern();

    [GeneratedRegex("<([^>]+)>")]
    private static partial Regex UnsubscribeTargets();

    [GeneratedRegex("<button")]
    private static partial Regex ButtonPattern();
}
