using System.Text.Json;
using System.Text.RegularExpressions;
using DeliveryGrains.TestKit.Smtp;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// The Grafana dashboard in deploy/ reads what the silo really exports: every metric its queries name
/// is in a durable silo's <c>/metrics</c> after an SMTP delivery with a deferral, with the labels the
/// queries group by.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed partial class DashboardTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Area", "Operations")]
    public async Task Every_query_of_the_Grafana_dashboard_names_metrics_and_labels_the_silo_exports()
    {
        const int recipients = 20;
        await using var sink = new SmtpSink(deferOnce: address => address.StartsWith("user1.", StringComparison.Ordinal));
        await sink.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(server, "dashboard", silos: 1, output, new Dictionary<string, string>
        {
            ["DeliveryGrains__Storage"] = "Postgres",
            ["Mta__Smtp__Host"] = "127.0.0.1",
            ["Mta__Smtp__Port"] = sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mta__Smtp__StartTls"] = "None",
            ["Mta__Smtp__From"] = "News <news@sender.test>",
            ["Mta__Smtp__BounceDomain"] = "bounces.sender.test",
            ["Mta__Smtp__DeferralDelay"] = "00:00:00.050",
        });
        var id = await cluster.StartDeliveryAsync(new
        {
            name = "Dashboard",
            channel = "Email",
            validityPeriod = "00:10:00",
            retryPeriod = "00:01:00",
            maxRetries = 2,
            generatedTarget = new { count = recipients, seed = 3, domain = "example.test" },
            mta = new { kind = "Smtp" },
        }, recipients);
        await cluster.Admin.UntilAsync(id, v => v.Kpi("sent") == recipients, TimeSpan.FromSeconds(60));
        Assert.True(sink.RawTo.Keys.Any(a => a.StartsWith("user1.", StringComparison.Ordinal)), "no recipient was deferred: the deferral metrics would prove nothing");

        // Feedback from the MTA: an open (posted twice, so once a duplicate) and a soft bounce that schedules a retry.
        var open = Bodies.Event(id, "g3-0", "Open", eventId: $"open-{id}");
        await cluster.PostFeedbackUntilAppliedAsync([open, open, Bodies.Event(id, "g3-2", "SoftBounce", "MailboxFull")], TimeSpan.FromSeconds(60));

        // Counters and histograms appear in the scrape once recorded: wait for the last ones the run records.
        string[] last = ["deliverygrains_smtp_deferrals_total", "deliverygrains_kpi_lag_seconds_bucket", "deliverygrains_retries_scheduled_total", "deliverygrains_feedback_duplicates_total"];
        var scrape = await Eventually.Until(() => cluster.Admin.GetStringAsync("/metrics"),
            s => last.All(name => s.Contains(name, StringComparison.Ordinal)),
            "the SMTP, feedback and KPI metrics in the scrape", TimeSpan.FromSeconds(30));
        var exported = Families(scrape);
        var queries = DashboardQueries();
        Assert.True(queries.Count >= 10, $"the dashboard has {queries.Count} queries");

        foreach (var query in queries)
        {
            var metrics = MetricName().Matches(query).Select(m => m.Value).Distinct().ToList();
            Assert.True(metrics.Count > 0, $"'{query}' names no metric of the silo");
            foreach (var metric in metrics)
            {
                Assert.True(exported.TryGetValue(metric, out var lines), $"'{query}' reads {metric}, which the silo does not export");
                foreach (var label in GroupedBy(query).Where(l => l is not ("le" or "instance")))
                {
                    Assert.True(lines.Any(l => l.Contains(label + "=\"", StringComparison.Ordinal)), $"'{query}' groups {metric} by {label}, a label it does not have");
                }
            }
        }
    }

    /// <summary>Each exported series line by its metric family (the name before the labels).</summary>
    private static Dictionary<string, List<string>> Families(string scrape) =>
        scrape.Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .GroupBy(l => l[..l.IndexOfAny(['{', ' '])])
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

    private static List<string> DashboardQueries()
    {
        var path = Path.Combine(RepositoryRoot(), "deploy", "grafana", "dashboards", "deliverygrains.json");
        using var dashboard = JsonDocument.Parse(File.ReadAllText(path));
        return [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)];
    }

    private static IEnumerable<string> GroupedBy(string query) =>
        ByClause().Matches(query).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "DeliveryGrains.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No DeliveryGrains.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"\b(?:deliverygrains|orleans|dotnet)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"\bby\s*\(([^)]*)\)")]
    private static partial Regex ByClause();
}
