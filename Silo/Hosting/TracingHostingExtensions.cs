using DeliveryGrains.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DeliveryGrains.Silo.Hosting;

/// <summary>
/// OpenTelemetry over OTLP, on only when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or
/// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) is set: traces of HTTP requests, of grain calls (Orleans'
/// activity propagation carries them across silos), of PostgreSQL commands and of SMTP transactions,
/// and the metrics <c>/metrics</c> already shows. The exporter reads the other <c>OTEL_*</c> variables
/// itself (protocol, headers, service name, <c>OTEL_TRACES_SAMPLER</c> and its argument for sampling).
/// Without an endpoint nothing is exported and grain calls carry no trace context.
/// </summary>
public static class TracingHostingExtensions
{
    public const string ServiceName = "deliverygrains-silo";

    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    public static bool OtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

    public static WebApplicationBuilder AddOtlpExport(this WebApplicationBuilder builder)
    {
        if (!OtlpConfigured(builder.Configuration))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? ServiceName, serviceInstanceId: Environment.MachineName))
            .WithTracing(tracing => tracing
                .AddSource([.. OrleansSources, DeliveryTracing.SourceName])
                // Probes and scrapes come every few seconds from machines, not from work anyone follows.
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter())
            .WithMetrics(metrics => metrics.AddOtlpExporter());
        return builder;
    }
}
