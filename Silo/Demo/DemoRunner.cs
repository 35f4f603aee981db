using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Client.Watching;
using DeliveryGrains.Deliveries;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Spectre.Console;

namespace DeliveryGrains.Silo.Demo;

/// <summary>
/// Runs one whole simulated delivery inside the silo process once it serves: creates, prepares,
/// confirms, shows the Deployment block live until the validity period ends, checks the final KPIs
/// against Compute stats, then stops the host (exit code 1 when the check fails).
/// </summary>
public sealed partial class DemoRunner(
    DemoSettings settings,
    IGrainFactory grains,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<DemoRunner> logger) : BackgroundService
{
    private static readonly Caller Operator = new("demo", Roles.All.ToHashSet());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WhenStartedAsync(stoppingToken);
            Environment.ExitCode = await RunAsync(stoppingToken) ? 0 : 1;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Environment.ExitCode = 130;
        }
        catch (Exception ex)
        {
            LogDemoFailed(ex);
            AnsiConsole.MarkupLineInterpolated($"[red]The demo failed: {ex.Message}[/]");
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    private async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://127.0.0.1:8080";
        console.MarkupLineInterpolated($"Operator console: [link]{address}/[/] (sign in with the API key of a user of Security:Users)");
        console.MarkupLineInterpolated($"Orleans dashboard: [link]{address}/dashboard[/]   API: {address}/api   OpenAPI: {address}/openapi/v1.json");

        var id = Guid.NewGuid().ToString("N");
        var delivery = grains.GetGrain<IDeliveryGrain>(id);
        await delivery.CreateAsync(Definition(), Operator);
        console.MarkupLineInterpolated($"Delivery [bold]{id}[/]: {settings.Recipients:N0} generated recipients, email with the Email Feedback Service, simulated Enhanced MTA.");
        console.MarkupLineInterpolated($"Watch it live in the console: [link]{address}/deliveries/{id}[/]");

        // R14.4: what the first recipient gets, rendered from the delivery's Liquid templates, sent nowhere.
        var preview = await delivery.PreviewAsync(null, Operator);
        console.MarkupLineInterpolated($"The message {preview.ProfileId} gets: subject [bold]{preview.Subject}[/], text:");
        foreach (var line in (preview.Text ?? "").TrimEnd('\n').Split('\n'))
        {
            console.WriteLine("  " + line);
        }

        var prepared = await delivery.PrepareAsync(Operator);
        console.Write(Tables.Preparation(prepared));
        var started = await delivery.ConfirmSendAsync(Operator);
        console.MarkupLineInterpolated($"Send confirmed; valid until {started.ValidUntil:HH:mm:ss} UTC (retries every few seconds until then).");

        var final = await new DeliveryWatcher(grains, console).WatchAsync(id, WatchUntil.Finished, cancellationToken);
        var recount = await delivery.ComputeStatsAsync(Operator);
        console.Write(Tables.KpiComparison(final.Kpis, recount, "Final", "Compute stats"));
        var agrees = KpiFigures.LogFiguresEqual(final.Kpis, recount);
        var changes = KpiVerdict.Changes(final.Kpis, recount);
        console.WriteLine(KpiVerdict.Describe(changes, settled: true), new Style(agrees ? Color.Green : Color.Red));
        return agrees;
    }

    private DeliveryDefinition Definition() => new(
        Name: "Demo: simulated Enhanced MTA",
        Channel: Channel.Email,
        EmailFeedbackService: true,
        ValidityPeriod: settings.Validity,
        RetryPeriod: TimeSpan.FromSeconds(3),
        MaxRetries: 3,
        SendAt: null,
        RequestConfirmation: true,
        Recipients: null,
        GeneratedTarget: new GeneratedTarget(settings.Recipients, Seed: 2026, Domain: "example.test"),
        Mta: new MtaSettings(MtaKind.Simulated, HardBounceRate: 0.03, SoftBounceRate: 0.10, RetrySuccessRate: 0.5,
            OpenRate: 0.3, ClickRate: 0.1, FeedbackDelay: TimeSpan.FromMilliseconds(500), Seed: 2026,
            Content: new MessageContent(
                "Spring offers for {{ firstName | default: \"you\" }}",
                null,
                "<h1>Hello {{ firstName | default: \"there\" }},</h1><p>Your spring offers are ready, {{ address }}.</p>"
                + "<p><a href=\"https://shop.example/offers?p={{ profileId | url_encode }}\">See your offers</a></p>",
                FromName: "The demo shop")));

    private Task WhenStartedAsync(CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The demo delivery failed")]
    private partial void LogDemoFailed(Exception ex);
}

public static class DemoHostingExtensions
{
    /// <summary>Demo mode: quiet logs, opens and clicks published every 2 s, and the runner.</summary>
    public static WebApplicationBuilder AddDemo(this WebApplicationBuilder builder, DemoSettings settings)
    {
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DeliveryGrains:TrackingRefreshPeriod"] = "00:00:02",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
        });
        builder.Services.AddSingleton(settings);
        builder.Services.AddHostedService<DemoRunner>();
        return builder;
    }
}
