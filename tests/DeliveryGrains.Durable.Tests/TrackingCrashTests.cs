using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeliveryGrains.TestKit.Smtp;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// R13.2 across a crash: opens and clicks requested while the silo holding the delivery's partition
/// is SIGKILLed. Every hit whose request was answered (the pixel's 200, the click's 302) was stored
/// by then and counts once after the silo's replacement reads the partition back; a request left
/// without an answer may count or not, never twice.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed partial class TrackingCrashTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R13.2")]
    [Trait("Rule", "R13.3")]
    public async Task Tracking_hits_answered_before_the_silo_is_killed_count_once_on_its_replacement()
    {
        // Fewer than a partition holds: one partition, so one silo stores every hit.
        const int recipients = 300;
        await using var sink = new SmtpSink();
        await sink.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(server, "trackcrash", silos: 2, output, new Dictionary<string, string>
        {
            ["DeliveryGrains__Storage"] = "Postgres",
            ["DeliveryGrains__TrackingRefreshPeriod"] = "00:00:00.500",
            ["Mta__Smtp__Host"] = "127.0.0.1",
            ["Mta__Smtp__Port"] = sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mta__Smtp__StartTls"] = "None",
            ["Mta__Smtp__From"] = "News <news@sender.test>",
            ["Mta__Smtp__BounceDomain"] = "bounces.sender.test",
        });
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Tracking crash",
            channel = "Email",
            emailFeedbackService = false,
            validityPeriod = "00:10:00",
            generatedTarget = new { count = recipients, seed = 13, domain = "example.test" },
            mta = new { kind = "Smtp" },
            content = new { subject = "News", html = "<p>Hello, see <a href=\"https://shop.example/offer?a=1&amp;b=2\">the offer</a>.</p>" },
        }, recipients);
        await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") == recipients, TimeSpan.FromSeconds(60));
        await Eventually.Until(() => Task.FromResult(sink.RawTo.Count), n => n == recipients, "every message at the sink", TimeSpan.FromSeconds(30));

        // Each recipient's pixel and click, as paths: the replacement serves them under its own address.
        var hits = new List<(string Address, string Kind, string Path)>();
        foreach (var address in sink.RawTo.Keys.Order(StringComparer.Ordinal))
        {
            var (message, _) = await sink.MessageToAsync(address);
            var html = message.HtmlBody!;
            hits.Add((address, "open", new Uri(WebUtility.HtmlDecode(PixelPattern().Match(html).Groups[1].Value)).PathAndQuery));
            hits.Add((address, "click", new Uri(WebUtility.HtmlDecode(ClickPattern().Match(html).Groups[1].Value)).PathAndQuery));
        }

        Assert.All(hits, h => Assert.StartsWith(h.Kind == "open" ? "/t/o/" : "/t/c/", h.Path, StringComparison.Ordinal));
        var partitionHost = (await cluster.ActivationsAsync("delivery-partition")).Single(p => p.Value > 0).Key;
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = partitionHost.Address, Timeout = TimeSpan.FromSeconds(30) };
        var answered = new ConcurrentBag<(string Address, string Kind)>();

        async Task RequestAsync((string Address, string Kind, string Path) hit)
        {
            try
            {
                using var response = await browser.GetAsync(hit.Path);
                if (response.StatusCode == (hit.Kind == "open" ? HttpStatusCode.OK : HttpStatusCode.Found))
                {
                    answered.Add((hit.Address, hit.Kind));
                }
                else
                {
                    // A pixel answered 503 was not stored and says so (a mail client loads it again); nothing else may come.
                    Assert.Equal((hit.Kind, HttpStatusCode.ServiceUnavailable), (hit.Kind, response.StatusCode));
                }
            }
            catch (HttpRequestException)
            {
                // No answer: the process died with the request.
            }
            catch (TaskCanceledException)
            {
                // No answer within the client's bound.
            }
        }

        // A quarter answered before the kill for certain; the rest in flight, the kill once the first of them is answered.
        var before = hits.Count / 4;
        foreach (var hit in hits.Take(before))
        {
            await RequestAsync(hit);
        }

        Assert.Equal(before, answered.Count);
        var inFlight = hits.Skip(before).Select(RequestAsync).ToList();
        await Eventually.Until(() => Task.FromResult(answered.Count), n => n > before, "a hit of the second wave answered", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(1));
        var replacement = await cluster.ReplaceAsync(partitionHost, graceful: false, TimeSpan.FromSeconds(90));
        await Task.WhenAll(inFlight);
        var answeredHits = answered.ToList();

        var logs = (await cluster.LogsAsync(id)).ToDictionary(l => l.GetProperty("address").GetString()!, StringComparer.OrdinalIgnoreCase);
        var opened = logs.Values.Count(l => l.GetProperty("opened").GetBoolean());
        var clicked = logs.Values.Count(l => l.GetProperty("clicked").GetBoolean());
        var links = await cluster.Admin.GetAsync($"/api/deliveries/{id}/links").ExpectAsync(HttpStatusCode.OK);
        var clicks = links.GetArrayLength() == 0 ? 0 : links[0].GetProperty("clicks").GetInt64();
        var uniqueClicks = links.GetArrayLength() == 0 ? 0 : links[0].GetProperty("uniqueClicks").GetInt64();
        output.WriteLine($"{hits.Count} hits requested, {before} answered before the kill, {answeredHits.Count} answered in all, {hits.Count - answeredHits.Count} without an answer; " +
            $"after the replacement ({replacement.Name}): {opened} logs opened, {clicked} clicked, link clicks {clicks} ({uniqueClicks} unique)");

        foreach (var (address, kind) in answeredHits)
        {
            var log = logs[address];
            Assert.True(log.GetProperty(kind == "open" ? "opened" : "clicked").GetBoolean(), $"the {kind} of {address} was answered but is not on its log: {log}");
        }

        // One click request per recipient: a click counted twice would make more clicks than clickers.
        Assert.Equal(uniqueClicks, clicks);
        Assert.Equal(clicked, clicks);
        Assert.True(clicks >= answeredHits.Count(h => h.Kind == "click"), $"{clicks} clicks counted for {answeredHits.Count(h => h.Kind == "click")} answered");
        Assert.True(clicks <= recipients);
        if (links.GetArrayLength() > 0)
        {
            Assert.Equal("https://shop.example/offer?a=1&b=2", links[0].GetProperty("url").GetString());
        }

        // The KPIs the replacement publishes are those of the logs: a click is an open (R8.4).
        await cluster.Admin.UntilAsync(id, v => v.Kpi("opens") == opened && v.Kpi("clicks") == clicked, TimeSpan.FromSeconds(30));
        Assert.True(opened >= answeredHits.Select(h => h.Address).Distinct().Count());
    }

    [GeneratedRegex("<img [^>]*src=\"([^\"]*)\"")]
    private static partial Regex PixelPattern();

    [GeneratedRegex("<a [^>]*href=\"([^\"]*/t/c/[^\"]*)\"")]
    private static partial Regex ClickPattern();
}
