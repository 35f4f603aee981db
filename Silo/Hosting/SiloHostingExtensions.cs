using Orleans.Dashboard;
using System.Net;
using System.Text.Json.Serialization;
using DeliveryGrains.Hosting;
using DeliveryGrains.Hosting.Storage;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace DeliveryGrains.Silo.Hosting;

public static class SiloHostingExtensions
{
    /// <summary>The Orleans silo: engine, storage, clustering and the dashboard.</summary>
    public static WebApplicationBuilder AddDeliverySilo(this WebApplicationBuilder builder)
    {
        var orleans = builder.Configuration.GetSection(OrleansHostingOptions.Section).Get<OrleansHostingOptions>() ?? new();
        var storage = builder.Configuration.GetValue($"{DeliveryEngineOptions.Section}:Storage", StorageMode.Memory);
        string? postgres = null;
        if (storage == StorageMode.Postgres)
        {
            postgres = builder.Configuration.GetConnectionString("Postgres");
            if (PostgresConnection.Problem(postgres) is { } problem)
            {
                throw new OptionsValidationException(PostgresConnection.ConfigurationKey, typeof(string), [problem]);
            }
        }

        builder.Services.AddOptions<OrleansHostingOptions>().BindConfiguration(OrleansHostingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.UseOrleans(silo =>
        {
            if (postgres is null)
            {
                silo.UseLocalhostClustering(orleans.SiloPort, orleans.GatewayPort, serviceId: orleans.ServiceId, clusterId: orleans.ClusterId)
                    .UseInMemoryPersistence();
            }
            else
            {
                silo.UsePostgresCluster(orleans, postgres);
            }

            silo.AddDeliveryEngine()
                .AddDashboard();
            silo.Services.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(2));
            // Failure detection (probe timeout, missed probes, votes…) stays at Orleans' defaults unless
            // configured under Orleans:Membership, e.g. for tests that kill a silo.
            silo.Services.AddOptions<ClusterMembershipOptions>().BindConfiguration($"{OrleansHostingOptions.Section}:Membership");
        });
        return builder;
    }

    /// <summary>
    /// Durable mode: membership and reminders through Orleans' ADO.NET providers (invariant Npgsql,
    /// queries from the project's <c>OrleansQuery</c> rows) and grain state in the project's own
    /// PostgreSQL storage; the schema is migrated before clustering starts.
    /// </summary>
    private static ISiloBuilder UsePostgresCluster(this ISiloBuilder silo, OrleansHostingOptions orleans, string connectionString)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = orleans.ClusterId;
            o.ServiceId = orleans.ServiceId;
        });
        if (string.IsNullOrWhiteSpace(orleans.AdvertisedIPAddress))
        {
            silo.ConfigureEndpoints(orleans.SiloPort, orleans.GatewayPort);
        }
        else if (IPAddress.TryParse(orleans.AdvertisedIPAddress, out var advertised))
        {
            silo.ConfigureEndpoints(advertised, orleans.SiloPort, orleans.GatewayPort);
        }
        else
        {
            throw new OptionsValidationException($"{OrleansHostingOptions.Section}:{nameof(OrleansHostingOptions.AdvertisedIPAddress)}", typeof(string),
                [$"{OrleansHostingOptions.Section}:{nameof(OrleansHostingOptions.AdvertisedIPAddress)} '{orleans.AdvertisedIPAddress}' is not an IP address."]);
        }

        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = PostgresConnection.WithPoolCap(connectionString, 4);
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = PostgresConnection.WithPoolCap(connectionString, 16);
        });
        return silo.UsePostgresPersistence(connectionString);
    }

    private const string PostgresInvariant = "Npgsql";

    /// <summary>The HTTP API: API-key users, role policies, problem details, OpenAPI.</summary>
    public static WebApplicationBuilder AddDeliveryApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Api.FrameworkProblems.Customize);
        services.AddExceptionHandler<DomainExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.AddOpenApi();
        services.AddOptions<ApiLimitsOptions>().BindConfiguration(ApiLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var maxBody = builder.Configuration.GetSection(ApiLimitsOptions.Section).Get<ApiLimitsOptions>()?.MaxRequestBodyBytes ?? new ApiLimitsOptions().MaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBody);
        builder.AddMetricsExport();
        return builder;
    }

    public static WebApplication MapDeliveryApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapMetrics();
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        app.MapDeliveries();
        app.MapDeliveryList();
        app.MapMtaFeedback();
        app.MapDsn();
        app.MapDeliveryDomains();
        app.MapProfilesAndAddresses();
        return app;
    }
}
