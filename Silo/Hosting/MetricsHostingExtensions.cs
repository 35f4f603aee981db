using DeliveryGrains.Hosting;
using OpenTelemetry.Metrics;

namespace DeliveryGrains.Silo.Hosting;

public static class MetricsHostingExtensions
{
    /// <summary>
    /// The engine's counters, Orleans' own meter (activations, messages) and the runtime's (memory,
    /// GC), for Prometheus to scrape at <c>/metrics</c>.
    /// </summary>
    public static WebApplicationBuilder AddMetricsExport(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(DeliveryMetrics.MeterName, "Microsoft.Orleans", "System.Runtime")
            .AddPrometheusExporter());
        return builder;
    }

    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
