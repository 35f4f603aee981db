using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeliveryGrains.Silo.Hosting;
using DeliveryGrains.TestKit.Http;
using DeliveryGrains.TestKit.Ports;
using DeliveryGrains.TestKit.Smtp;
using DeliveryGrains.TestKit.Waiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace DeliveryGrains.TrackingLoad;

/// <summary>
/// R13.2 under load (not BenchmarkDotNet: it drives HTTP): one silo host in this process
/// (memory mode, the real API and tracking endpoints, the SMTP relay into an in-process sink) sends a
/// tracked delivery; the open-pixel URLs of the captured messages are then requested by
/// <c>--clients</c> concurrent loops for <c>--seconds</c>, beside a plain endpoint the same Kestrel
/// serves (<c>/bench/plain</c>: the same 43-byte GIF, no work), alternating plain, tracked, plain,
/// tracked so a change of the machine's load shows. The loops run in this process too, so both
/// endpoints share the two cores with their client alike.
/// <code>dotnet run -c Release --project tests/DeliveryGrains.TrackingLoad -- [--clients 32] [--seconds 10] [--recipients 2000]</code>
/// </summary>
public static partial class TrackingLoad
{
    private const string AdminKey = "tracking-load-admin-key";

    private static readonly byte[] Gif = new byte[43];

    public static async Task<int> RunAsync(string[] args)
    {
        var clients = Option(args, "--clients", 32);
        var seconds = Option(args, "--seconds", 10);
        var recipients = Option(args, "--recipients", 2_000);
        await using var sink = new SmtpSink();
        await sink.StartAsync();
        var port = FreePort.Next();
        var app = Build(port, sink.Port);
        await app.StartAsync();
        try
        {
            var address = new Uri($"http://127.0.0.1:{port}");
            using var admin = ApiClients.Create(address, AdminKey, TimeSpan.FromSeconds(60));
            var id = await admin.StartAsync(Bodies.Delivery(recipients, body =>
            {
                body["mta"] = new JsonObject { ["kind"] = "Smtp" };
                body["validityPeriod"] = "00:30:00";
                body["content"] = new JsonObject
                {
                    ["subject"] = "Tracked",
                    ["html"] = "<p>Hello {{ profileId }}, see <a href=\"https://shop.example/offer\">the offer</a>.</p>",
                };
            }));
            var pixels = await PixelUrlsAsync(sink, recipients, TimeSpan.FromMinutes(5));
            Console.WriteLine($"delivery {id}: {pixels.Count} messages captured, {pixels.Distinct().Count()} distinct open-pixel URLs");

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                Timeout = TimeSpan.FromSeconds(30),
            };
            var plain = new[] { new Uri(address, "/bench/plain").ToString() };
            await DriveAsync(http, plain, clients, TimeSpan.FromSeconds(2), "warm-up plain", report: false);
            await DriveAsync(http, pixels, clients, TimeSpan.FromSeconds(2), "warm-up tracked", report: false);
            for (var round = 1; round <= 2; round++)
            {
                await DriveAsync(http, plain, clients, TimeSpan.FromSeconds(seconds), $"plain   (round {round})", report: true);
                await DriveAsync(http, pixels, clients, TimeSpan.FromSeconds(seconds), $"tracked (round {round})", report: true);
            }

            // The KPIs are flushed a moment after the hits are stored: wait for them, bounded.
            var view = await admin.UntilAsync(id, v => v.Kpi("opens") >= recipients, TimeSpan.FromSeconds(20));

            Console.WriteLine($"delivery view after the runs: opens {view.Kpi("opens")} of {recipients} recipients (unique opens)");
            var metrics = await admin.GetStringAsync("/metrics");
            foreach (var line in metrics.Split('\n').Where(l => l.StartsWith("deliverygrains_tracking_hits", StringComparison.Ordinal)))
            {
                Console.WriteLine(line);
            }
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static WebApplication Build(int httpPort, int smtpPort)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{httpPort}",
            ["Orleans:SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "tracking-load",
            ["Orleans:ServiceId"] = "tracking-load",
            ["DeliveryGrains:Storage"] = "Memory",
            // Opens and clicks reach the KPIs at this period (R8.5): soon enough to read them back after the runs.
            ["DeliveryGrains:TrackingRefreshPeriod"] = "00:00:01",
            ["Tracking:BaseUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Mta:Smtp:Host"] = "127.0.0.1",
            ["Mta:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Mta:Smtp:StartTls"] = "None",
            ["Mta:Smtp:From"] = "News <news@sender.test>",
            ["Mta:Smtp:BounceDomain"] = "bounces.sender.test",
        };
        foreach (var (key, value) in ApiUser.Settings([ApiUser.Administrator(AdminKey)]))
        {
            settings[key] = value;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddDeliverySilo().AddDeliveryApi();
        var app = builder.Build();
        app.MapDeliveryApi();

        // The baseline: what Kestrel and routing cost for the same answer, with nothing checked or recorded.
        app.MapGet("/bench/plain", (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            return Results.File(Gif, "image/gif");
        }).AllowAnonymous();
        return app;
    }

    private static async Task<List<string>> PixelUrlsAsync(SmtpSink sink, int recipients, TimeSpan within)
    {
        await Eventually.Until(() => Task.FromResult(sink.RawTo.Count), count => count >= recipients,
            $"all {recipients} messages at the sink", within, TimeSpan.FromMilliseconds(200));

        var urls = new List<string>(recipients);
        foreach (var raw in sink.RawTo.Values)
        {
            using var stream = new MemoryStream(raw);
            var html = (await MimeMessage.LoadAsync(stream)).HtmlBody ?? "";
            urls.Add(WebUtility.HtmlDecode(Pixel().Match(html).Groups[1].Value));
        }

        return urls;
    }

    private static async Task DriveAsync(HttpClient http, IReadOnlyList<string> urls, int clients, TimeSpan duration, string name, bool report)
    {
        var latencies = new List<double>[clients];
        var failures = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var mine = latencies[c] = new List<double>(100_000);
            for (var i = c; clock.Elapsed < duration; i += clients)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(urls[i % urls.Count], HttpCompletionOption.ResponseContentRead);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        if (!report)
        {
            return;
        }

        var all = latencies.SelectMany(l => l).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {all.Length:N0} requests in {elapsed:F1} s = {all.Length / elapsed:N0}/s, p50 {Percentile(all, 0.50):F2} ms, p99 {Percentile(all, 0.99):F2} ms, max {all[^1]:F1} ms, {failures} not 200"));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
    }

    [GeneratedRegex("<img src=\"([^\"]+/t/o/[^\"]+)\"", RegexOptions.CultureInvariant)]
    private static partial Regex Pixel();
}
