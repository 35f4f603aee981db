using DeliveryGrains.Hosting;
using OpenTelemetry.Metrics;

namespace DeliveryGrains.Silo.Hosting;

public static class MetricsHostingExtensions
{
    /// <summary>Orleans' gauge of its grain directory cache's entries, left out of the export.</summary>
    public const string DirectoryCacheSize = "orleans-directory-cache-size";

    /// <summary>
    /// The engine's instruments, Orleans' own meter (activations, messages) and the runtime's (memory,
    /// GC), for Prometheus to scrape at <c>/metrics</c>. The engine's process gauges and its
    /// <c>deliverygrains_silo_info{storage}</c> are there from the start, before any grain asked for
    /// <see cref="DeliveryMetrics"/>.
    /// </summary>
    public static WebApplicationBuilder AddMetricsExport(this WebApplicationBuilder builder)
    {
        var storage = builder.Configuration.GetValue($"{DeliveryEngineOptions.Section}:Storage", StorageMode.Memory);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(DeliveryMetrics.MeterName, "Microsoft.Orleans", "System.Runtime")
            // Orleans counts its directory cache by walking every entry at each scrape: 4% of the silo's
            // busy time in a profiled SMTP run scraped once a second, for a figure no dashboard of ours reads.
            .AddView(DirectoryCacheSize, MetricStreamConfiguration.Drop)
            .AddPrometheusExporter());
        builder.Services.AddHostedService(sp => new SiloMetricsDescription(sp.GetRequiredService<DeliveryMetrics>(), storage));
        return builder;
    }

    /// <summary>Prometheus' scraping endpoint at <c>/metrics</c>; the caller adds who may read it.</summary>
    public static IEndpointConventionBuilder MapMetrics(this WebApplication app) => app.MapPrometheusScrapingEndpoint("/metrics");

    /// <summary>Creates the engine's instruments at start and names the storage mode on them.</summary>
    private sealed class SiloMetricsDescription(DeliveryMetrics metrics, StorageMode storage) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            metrics.StorageMode = storage.ToString();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
