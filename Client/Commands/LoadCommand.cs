using System.ComponentModel;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Load;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Measuring;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class LoadSettings : DeliveryOptionSettings
{
    /// <summary>The defaults of a load run: immediate feedback, quick retries, a short validity.</summary>
    public static readonly DefinitionDefaults LoadDefaults = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(2), TimeSpan.Zero, MtaSeed: 7);

    /// <summary>The silo's <c>/metrics</c> at its default HTTP address (<c>Urls</c> in the silo's appsettings.json).</summary>
    public const string DefaultMetricsUrl = "http://127.0.0.1:8080/metrics";

    /// <summary>Deliveries a run may start at once.</summary>
    public const int MaxDeliveries = 100;

    /// <summary>Recipients a run may generate in all (the bound of one generated target, R2).</summary>
    public const long MaxTotalRecipients = 10_000_000;

    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["generatedTarget.count"] = "--recipients",
        ["recipients"] = "--recipients",
    };

    [CommandOption("--recipients <COUNT>")]
    [Description("Recipients of each delivery's generated target.")]
    [DefaultValue(100_000)]
    public int Recipients { get; set; } = 100_000;

    [CommandOption("--deliveries <COUNT>")]
    [Description("Deliveries run at once (1-100), each of --recipients, with targets of seeds --seed, --seed+1, …")]
    [DefaultValue(1)]
    public int Deliveries { get; set; } = 1;

    [CommandOption("--seed <SEED>")]
    [Description("Seed of the (first) generated target (the MTA's too unless --mta-seed is given). A rerun with the same seed meets its own quarantine.")]
    [DefaultValue(7)]
    public int Seed { get; set; } = 7;

    [CommandOption("--domain <DOMAIN>")]
    [Description("Domain of the generated addresses.")]
    [DefaultValue("example.test")]
    public string Domain { get; set; } = "example.test";

    [CommandOption("--mta <KIND>")]
    [Description("MTA of the deliveries: Simulated, or Smtp (the silo's SMTP relay, Mta:Smtp:*, R12).")]
    [DefaultValue(MtaKind.Simulated)]
    public MtaKind MtaKind { get; set; } = MtaKind.Simulated;

    [CommandOption("--smtp <HOST:PORT>")]
    [Description("With --mta Smtp: the SMTP sink the silo relays to (e.g. Postfix's smtp-sink); checked to greet before the run.")]
    public string? Smtp { get; set; }

    [CommandOption("--message-bytes <BYTES>")]
    [Description("With --mta Smtp: each message's text part is about BYTES long (default: the short built-in text), so a run measures the relay at a given message size.")]
    public int? MessageBytes { get; set; }

    [CommandOption("--content <KIND>")]
    [Description("With --mta Smtp: Text (a text part of --message-bytes, the default), Html (an HTML part of --message-bytes, default 20000, with 10 links and nothing personalised; the text part is made from it) or Template (the same HTML naming 10 fields twice and the profile in every link: R14 personalisation).")]
    [DefaultValue(LoadContent.Text)]
    public LoadContent Content { get; set; } = LoadContent.Text;

    [CommandOption("--untracked")]
    [Description("With --content Html or Template: no tracked links and no open pixel (R13.1), to set a tracked run beside an untracked one.")]
    public bool Untracked { get; set; }

    [CommandOption("--metrics <URL>")]
    [Description("A silo's Prometheus endpoint, scraped for its resident set and KPI lag; repeat it for each silo (default " + DefaultMetricsUrl + ").")]
    public string[]? Metrics { get; set; }

    [CommandOption("--floor <GRAINS>")]
    [Description("Before the run, measure the activation floor in the run's silo (engine and dashboard running beside it): the time the cluster takes to activate, call once and deactivate GRAINS trivial grains (1,024 in flight); the summary then gives settle time / floor.")]
    public int? Floor { get; set; }

    [CommandOption("--stock-floor <SECONDS>")]
    [Description("The stock activation floor of this machine, in seconds per 1,000,000 grains, as 'dotnet run --project Silo -c Release -- floor' printed it (a bare silo, DESIGN's method); the summary then gives settle time / stock floor.")]
    public double? StockFloor { get; set; }

    [CommandOption("--report <FILE>")]
    [Description("Write the measurements as JSON to FILE.")]
    public string? Report { get; set; }

    /// <summary>The first delivery's definition (the one options validation checks).</summary>
    public DeliveryDefinition Definition() => Definition(0);

    /// <summary>The <paramref name="index"/>-th delivery: its own target seed (and MTA seed, unless --mta-seed is given), so runs never meet each other's quarantine.</summary>
    public DeliveryDefinition Definition(int index)
    {
        var seed = unchecked(Seed + index);
        var definition = Definition(
            Deliveries == 1 ? $"Load test: {Recipients} recipients" : $"Load test: {Recipients} recipients ({index + 1}/{Deliveries})",
            recipients: null,
            new GeneratedTarget(Recipients, seed, Domain),
            MtaKind,
            LoadDefaults with { MtaSeed = seed });
        var content = Content switch
        {
            LoadContent.Html or LoadContent.Template => new MessageContent(
                Content == LoadContent.Template ? "News for {{ field0 | default: \"friend\" }}" : "News for friend",
                null,
                SizedHtml(MessageBytes ?? DefaultHtmlBytes, Content == LoadContent.Template),
                Tracking: !Untracked),
            _ when MessageBytes is { } bytes => new MessageContent("Load test {{profileId}}", SizedText(bytes), null),
            _ => null,
        };
        return content is null ? definition : definition with { Mta = definition.Mta with { Content = content } };
    }

    /// <summary>The size of an HTML load message when --message-bytes is not given: the size the personalisation benchmark renders.</summary>
    public const int DefaultHtmlBytes = 20_000;

    /// <summary>
    /// About <paramref name="bytes"/> of newsletter HTML in paragraphs, each with a link; as a template it
    /// names the fields <c>field0</c>…<c>field9</c> (with a fallback, as the generated recipients have none)
    /// and puts the profile in each link, otherwise the same words are written out.
    /// </summary>
    private static string SizedHtml(int bytes, bool template)
    {
        var html = new System.Text.StringBuilder("<html><body>\n", bytes + 512);
        for (var p = 0; html.Length < bytes; p++)
        {
            var f = p % 10;
            var name = template ? $"{{{{ field{f} | default: \"friend\" }}}}" : "friend";
            var profile = template ? "{{ profileId }}" : "newsletter";
            html.Append("<p>Dear ").Append(name).Append(", this paragraph tells you about our offers in some detail, as a newsletter does. ")
                .Append("<a href=\"https://shop.example/offer/").Append(f).Append("?p=").Append(profile).Append("\">Offer ").Append(f).Append("</a></p>\n");
        }

        return html.Append("</body></html>\n").ToString();
    }

    /// <summary>A text of about <paramref name="bytes"/> ASCII bytes in lines of 76 characters, personalised once, as a newsletter's would be.</summary>
    private static string SizedText(int bytes)
    {
        const string line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tem.\r\n";
        var text = new System.Text.StringBuilder("Hello {{firstName|there}},\r\n\r\n", bytes + line.Length);
        while (text.Length < bytes)
        {
            text.Append(line);
        }

        return text.ToString();
    }

    public IReadOnlyList<Uri> MetricsEndpoints() =>
        [.. (Metrics is { Length: > 0 } given ? given : [DefaultMetricsUrl]).Select(u => new Uri(u, UriKind.Absolute))];

    public override ValidationResult Validate()
    {
        var errors = OptionErrors.Of(Definition(), Renamed);
        AddScenarioFileError(errors);
        if (Deliveries is < 1 or > MaxDeliveries)
        {
            errors["--deliveries"] = [$"Run 1 to {MaxDeliveries} deliveries at once."];
        }
        else if ((long)Deliveries * Recipients > MaxTotalRecipients && !errors.ContainsKey("--recipients"))
        {
            errors["--deliveries"] = [$"--deliveries × --recipients is {(long)Deliveries * Recipients:N0}; a run generates at most {MaxTotalRecipients:N0} recipients."];
        }
        else if ((long)Seed + Deliveries - 1 > int.MaxValue)
        {
            errors["--seed"] = [$"--seed + --deliveries − 1 must not exceed {int.MaxValue}."];
        }

        foreach (var url in Metrics ?? [])
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
            {
                errors["--metrics"] = [.. errors.GetValueOrDefault("--metrics", []), $"'{url}' is not an http:// or https:// URL such as {DefaultMetricsUrl}."];
            }
        }

        if (MtaKind == MtaKind.External)
        {
            errors["--mta"] = ["A load run needs an MTA that answers by itself: Simulated or Smtp."];
        }

        if (Smtp is { } smtp)
        {
            if (MtaKind != MtaKind.Smtp)
            {
                errors["--smtp"] = ["--smtp names the sink of an SMTP run: give --mta Smtp with it."];
            }
            else if (SmtpSink.Parse(smtp) is null)
            {
                errors["--smtp"] = [$"'{smtp}' is not HOST:PORT such as 127.0.0.1:2525."];
            }
        }

        if (MessageBytes is { } messageBytes && (messageBytes is < 1 or > DeliveryRules.MaxContentLength || MtaKind != MtaKind.Smtp))
        {
            errors["--message-bytes"] = [MtaKind != MtaKind.Smtp
                ? "--message-bytes sizes the messages of an SMTP run: give --mta Smtp with it."
                : $"Give a size from 1 to {DeliveryRules.MaxContentLength:N0} bytes, e.g. --message-bytes 20000."];
        }

        if (Content != LoadContent.Text && MtaKind != MtaKind.Smtp)
        {
            errors["--content"] = ["--content chooses the messages of an SMTP run: give --mta Smtp with it."];
        }

        if (Untracked && Content == LoadContent.Text)
        {
            errors["--untracked"] = ["Only HTML can be tracked: give --content Html or Template with --untracked."];
        }

        if (Floor is { } floor && floor is < 1 or > ActivationFloor.MaxGrains)
        {
            errors["--floor"] = [$"Measure the floor over 1 to {ActivationFloor.MaxGrains:N0} grains, e.g. --floor {Recipients} (as many as the run's recipients)."];
        }

        if (StockFloor is { } stock && (double.IsNaN(stock) || stock is <= 0 or > 3600))
        {
            errors["--stock-floor"] = ["Give the seconds per 1,000,000 grains that 'DeliveryGrains.Silo floor' printed, above 0 and at most 3600, e.g. --stock-floor 21.9."];
        }

        if (StockFloor is not null && Floor is not null)
        {
            errors["--stock-floor"] = ["Hold the run against one floor: give --floor (measured in the run's silo) or --stock-floor, not both."];
        }

        if (Report is { } report && Path.GetDirectoryName(Path.GetFullPath(report)) is { } folder && !Directory.Exists(folder))
        {
            errors["--report"] = [$"The folder '{folder}' does not exist."];
        }

        return errors.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(OptionErrors.Describe(errors));
    }
}

/// <summary>What the messages of an SMTP load run hold (<c>--content</c>).</summary>
public enum LoadContent
{
    Text,
    Html,
    Template,
}

/// <summary><c>load</c>: a timed run on the simulated MTA (or the silo's SMTP relay with <c>--mta Smtp</c>), with a stats check, the silo's peak memory, KPI lag and view latency.</summary>
public sealed class LoadCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection, IConfiguration? configuration = null)
    : ClientCommand<LoadSettings>(connection)
{
    /// <summary>How long one scrape of a silo's <c>/metrics</c> may take.</summary>
    public static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>R8.5 and the scale goals the summary compares with.</summary>
    public const long ResidentGoalBytes = 4L << 30;

    public const double ViewMedianGoalMs = 100;

    protected override async Task<int> RunAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        var plan = new LoadPlan(
            [.. Enumerable.Range(0, settings.Deliveries).Select(settings.Definition)],
            settings.MetricsEndpoints(),
            string.Equals(configuration?["DeliveryGrains:Storage"], "Postgres", StringComparison.OrdinalIgnoreCase));
        if (settings.Smtp is { } smtp)
        {
            var (host, port) = SmtpSink.Parse(smtp)!.Value;
            var greeting = await SmtpSink.GreetingAsync(host, port, cancellationToken);
            if (greeting is null || !greeting.StartsWith("220", StringComparison.Ordinal))
            {
                CliErrors.Line(console, $"No SMTP server greets at {smtp}{(greeting is null ? "" : $" (it said '{greeting}')")}: start the sink (e.g. smtp-sink -c {smtp} 1000) and point the silo's Mta:Smtp:Host and Mta:Smtp:Port at it.");
                return ExitCodes.InvalidInput;
            }

            console.MarkupLineInterpolated($"SMTP sink at {smtp} greets: {greeting}");
        }

        using var http = new HttpClient { Timeout = ScrapeTimeout };

        // A silo that listens beyond loopback serves /metrics to Monitoring or Administration: the client's own key.
        if (configuration?["Client:ApiKey"] is { Length: > 0 } apiKey)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        var shown = settings.Json ? Output.Quiet() : console;
        ActivationFloor? floor = null;
        if (settings.Floor is { } floorGrains)
        {
            // Before the run, on a quiet cluster: the run's own activations would slow the probe grains.
            shown.MarkupLineInterpolated($"Measuring the activation floor over {Format.Count(floorGrains)} grains…");
            floor = await grains.GetGrain<IActivationFloorGrain>(Guid.NewGuid()).MeasureAsync(floorGrains);
            shown.MarkupLineInterpolated($"Activation floor: {Format.Count(floor.Grains)} grains in {Format.Seconds(floor.Elapsed)} ({Format.Rate(floor.PerSecond)}/s).");
        }

        else if (settings.StockFloor is { } stockSeconds)
        {
            floor = new ActivationFloor(1_000_000, TimeSpan.FromSeconds(stockSeconds));
        }

        var report = await new LoadTest(grains, shown, caller, http).RunAsync(plan, cancellationToken);
        if (floor is not null)
        {
            var scaled = floor.ScaledTo(report.ToDeliver).TotalSeconds;
            report = report with
            {
                Floor = new FloorFigures(floor.Grains, floor.Elapsed.TotalSeconds, floor.PerSecond, scaled,
                    scaled > 0 ? report.SettleSeconds / scaled : null,
                    settings.StockFloor is null ? FloorKind.RunSilo : FloorKind.Stock),
            };
        }

        if (settings.Json)
        {
            console.WriteText(report.ToJson());
        }
        else
        {
            console.Write(Summary(report));
        }

        if (settings.Report is { } path)
        {
            await File.WriteAllTextAsync(path, report.ToJson(), cancellationToken);
            if (!settings.Json)
            {
                console.MarkupLineInterpolated($"Report written to {path}.");
            }
        }

        if (!report.StatsMatch)
        {
            CliErrors.Line(console, $"Stats check failed: Compute stats differs from the running KPIs: {string.Join("; ", report.StatsDifferences)}.");
            return ExitCodes.Failed;
        }

        return ExitCodes.Ok;
    }

    public static Table Summary(LoadReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Load test")
            .AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned()).AddColumn("Detail");
        if (r.Deliveries > 1)
        {
            table.AddRow("Deliveries", Format.Count(r.Deliveries), $"at once, {Format.Count(r.RecipientsPerDelivery)} recipients each; times below from the first confirmation to the last delivery");
        }

        table.AddRow("Recipients", Format.Count(r.Recipients), $"{Format.Count(r.ToDeliver)} to deliver, {Format.Count(r.Excluded)} excluded");
        table.AddRow("Prepare time", Format.Seconds(TimeSpan.FromSeconds(r.PrepareSeconds)), "target resolution, exclusions and sending logs");
        table.AddRow("Relay time", r.RelaySeconds is { } relay ? Format.Seconds(TimeSpan.FromSeconds(relay)) : "-",
            r.RelayMessagesPerSecond is { } mps ? $"{Format.Rate(mps)} messages/s, confirmation until sent = to deliver" : "never reached sent = to deliver");
        table.AddRow("Settle time", Format.Seconds(TimeSpan.FromSeconds(r.SettleSeconds)), $"confirmation until settled (R8.8); ended {r.FinalStatus}");
        if (r.Floor is { } floor)
        {
            table.AddRow(new Text("Settle / floor"), new Text(floor.SettleOverFloor is { } ratio ? ratio.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "-"), new Text(
                (floor.Kind == FloorKind.Stock ? "stock activation floor (a bare silo) " : "activation floor in the run's silo (engine and dashboard running) ") +
                $"{Format.Count(floor.Grains)} grains in {Seconds(floor.Seconds)} ({Format.Rate(floor.PerSecond)}/s), " +
                $"{Seconds(floor.ScaledSeconds)} for {Format.Count(r.ToDeliver)} messages; goal ≤ {FloorFigures.Goal:0.0}: " +
                $"{(floor.SettleOverFloor <= FloorFigures.Goal ? "met" : "NOT met")}"));
        }

        table.AddRow("Throughput", Format.Rate(r.RecipientsPerSecond), r.Deliveries > 1 ? "recipients/s in all (to deliver / settle time)" : "recipients/s (to deliver / settle time)");
        if (r.Deliveries > 1)
        {
            foreach (var (run, n) in r.Runs.Select((run, n) => (run, n + 1)))
            {
                table.AddRow(new Text($"Delivery {n}"), new Text(Format.Seconds(TimeSpan.FromSeconds(run.SettleSeconds))), new Text(
                    $"{run.DeliveryId} (seed {run.Seed}): prepare {Format.Seconds(TimeSpan.FromSeconds(run.PrepareSeconds))}, " +
                    $"relay {(run.RelaySeconds is { } s ? Format.Seconds(TimeSpan.FromSeconds(s)) : "-")}, " +
                    $"settle {Format.Seconds(TimeSpan.FromSeconds(run.SettleSeconds))}, {Format.Rate(run.RecipientsPerSecond)} recipients/s, " +
                    $"{run.FinalStatus}, stats {(run.StatsMatch ? "equal" : "differ")}"));
            }
        }

        table.AddRow("Stats check", r.StatsMatch ? "[green]equal[/]" : "[red]differs[/]",
            r.StatsMatch ? "Compute stats equals the running KPIs (R8.7)" : Markup.Escape(string.Join("; ", r.StatsDifferences)));
        AddSiloRows(table, r);
        table.AddRow("Peak memory (managed)", r.MemorySamples > 0 ? Format.Bytes(r.PeakMemoryBytes) : "n/a",
            Markup.Escape(r.MemorySamples > 0
                ? $"{MemoryPeak.Figure}; max of {r.MemorySamples} samples, limit {Format.Bytes(r.MaximumAvailableMemoryBytes)}"
                : $"no sample: {r.MemorySamplingError}"));
        table.AddRow("Peak activations", Format.Count(r.PeakActivations), "all silos");
        table.AddRow("Final KPIs", "", Markup.Escape(
            $"delivered {Format.Count(r.RecountedKpis.Delivered)} ({Format.Percent(r.RecountedKpis.DeliveredRate)}), " +
            $"bounces+errors {Format.Count(r.RecountedKpis.BouncesAndErrors)} ({Format.Percent(r.RecountedKpis.BouncesAndErrorsRate)}), " +
            $"opens {Format.Count(r.RecountedKpis.Opens)}, clicks {Format.Count(r.RecountedKpis.Clicks)}"));
        return table;
    }

    private static void AddSiloRows(Table table, LoadReport r)
    {
        var m = r.SiloMetrics;
        var endpoints = string.Join(", ", m.Endpoints);
        table.AddRow(new Text("Silo metrics"), new Text(m.Reachable ? $"{m.Scrapes} scrapes" : "unreachable"), new Text(
            m.FailedScrapes == 0 ? endpoints : $"{endpoints}; {m.FailedScrapes} scrapes failed, the last: {m.Error}"));

        table.AddRow(new Text("Peak resident set"), new Text(r.PeakResidentBytes is { } rss ? Format.Bytes(rss) : "n/a"), new Text(
            r.PeakResidentBytes is { } peak
                ? $"largest silo: max sampled {(m.PeakWorkingSetBytes is { } s ? Format.Bytes(s) : "-")}, " +
                  $"VmHWM since it started {(m.PeakWorkingSetGaugeBytes is { } g ? Format.Bytes(g) : "-")} (the silo's own gauges); " +
                  $"goal under {Format.Bytes(ResidentGoalBytes)}: {(peak < ResidentGoalBytes ? "met" : "NOT met")}"
                : m.Reachable ? $"the silo exports no {SiloMetricNames.WorkingSet}" : "no scrape of /metrics answered; see Silo metrics"));

        var lag = m.KpiLag;
        table.AddRow(new Text("KPI lag"), new Text(lag is { Count: > 0, P99Seconds: { } p99 } ? $"p99 {Seconds(p99)}" : "n/a"), new Text(
            lag is { Count: > 0 }
                ? $"{Format.Count(lag.Count)} flushes: p50 {Seconds(lag.P50Seconds)}, p99 {Seconds(lag.P99Seconds)}, " +
                  $"{Format.Percent((lag.ShareWithinBound ?? 0) * 100)} ≤ {Seconds(lag.BoundSeconds)}, max {(lag.MaxBucketBoundSeconds is { } b ? $"≤ {Seconds(b)}" : "above every bucket")} " +
                  $"(histogram buckets, every delivery on the silos); goal all ≤ {Seconds(lag.BoundSeconds)}: {(lag.ShareWithinBound >= 1 ? "met" : "NOT met")}"
                : m.Reachable ? $"the silo recorded no {SiloMetricNames.KpiLag} during the run" : "no scrape of /metrics answered; see Silo metrics"));

        var reads = r.ViewReads;
        table.AddRow(new Text("View reads"), new Text(reads.MedianMs is { } median ? $"median {Format.Milliseconds(median)}" : "n/a"), new Text(
            reads.MedianMs is { } med
                ? $"{Format.Count(reads.Count)} GetViewAsync calls while polling, each delivery every 250 ms answered or not{(reads.Skipped > 0 ? $" ({Format.Count(reads.Skipped)} ticks skipped with {LoadTest.MaxReadsInFlight} reads waiting)" : "")}; " +
                  $"p95 {Format.Milliseconds(reads.P95Ms ?? med)}, max {Format.Milliseconds(reads.MaxMs ?? med)}; " +
                  $"goal median under {ViewMedianGoalMs:0} ms: {(med < ViewMedianGoalMs ? "met" : "NOT met")}"
                : "no read"));

        table.AddRow(new Text("Storage mode"), new Text(r.StorageMode ?? "unknown"), new Text(r.StorageModeSource));
    }

    private static string Seconds(double? seconds) =>
        seconds is { } s ? s.ToString(s < 1 ? "0.000" : "0.00", System.Globalization.CultureInfo.InvariantCulture) + " s" : "-";
}
