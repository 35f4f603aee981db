using System.Text.Json;
using DeliveryGrains.Hosting;
using DeliveryGrains.Hosting.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DeliveryGrains.Silo.Hosting;

/// <summary>
/// <c>/health/live</c>: the process serves HTTP. <c>/health/ready</c>: this silo is an active member of
/// its cluster, its storage answers and it is not shutting down, so a load balancer or Kubernetes sends
/// it traffic. Both answer without a key (probes carry none) and say only which check failed.
/// </summary>
public static class HealthHostingExtensions
{
    private const string Ready = "ready";

    /// <summary>How long the storage check waits for PostgreSQL before it counts as unreachable.</summary>
    private static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);

    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<ClusterMemberCheck>("cluster", tags: [Ready])
            .AddCheck<NotStoppingCheck>("shutdown", tags: [Ready]);
        var storage = builder.Configuration.GetValue($"{DeliveryEngineOptions.Section}:Storage", StorageMode.Memory);
        if (storage is StorageMode.Postgres or StorageMode.AdoNet && builder.Configuration.GetConnectionString("Postgres") is { } postgres)
        {
            checks.AddNpgSql(PostgresConnection.WithPoolCap(postgres, 2), name: "storage", tags: [Ready], timeout: StorageTimeout);
        }

        return builder;
    }

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    /// <summary>The overall status and each check's, with the reason of one that failed; no exception text (it may name hosts).</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var checks = report.Entries.ToDictionary(
            e => e.Key,
            e => new { status = e.Value.Status.ToString(), description = e.Value.Description });
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { status = report.Status.ToString(), checks }));
    }

    /// <summary>Ready only while the membership says this silo is Active (not joining, not leaving, not declared dead).</summary>
    private sealed class ClusterMemberCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return Task.FromResult(status == SiloStatus.Active
                ? HealthCheckResult.Healthy("an active cluster member")
                : HealthCheckResult.Unhealthy($"this silo is {status} in the cluster"));
        }
    }

    private sealed class NotStoppingCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
                ? HealthCheckResult.Unhealthy("shutting down")
                : HealthCheckResult.Healthy("running"));
    }
}
