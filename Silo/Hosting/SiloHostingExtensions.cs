using Microsoft.AspNetCore.ResponseCompression;
using Orleans.Dashboard;
using System.Net;
using System.Text.Json.Serialization;
using DeliveryGrains.Hosting;
using DeliveryGrains.Hosting.Storage;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.OperatorConsole.Live;
using DeliveryGrains.Silo.Security;
using DeliveryGrains.Silo.Tracking;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        if (storage is StorageMode.Postgres or StorageMode.AdoNet)
        {
            postgres = builder.Configuration.GetConnectionString("Postgres");
            if (PostgresConnection.Problem(postgres) is { } problem)
            {
                throw new OptionsValidationException(PostgresConnection.ConfigurationKey, typeof(string), [problem]);
            }
        }

        builder.Services.AddCallerDirectory();
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
                silo.UsePostgresCluster(orleans, postgres, storage);
                if (orleans.Kubernetes)
                {
                    // After the cluster's own settings: in a pod, the pod's identity and address win.
                    silo.UseKubernetesHosting();
                }
            }

            // The dashboard's Trace page streams the silo's log (addresses, ids) to whoever opens it: never served.
            silo.AddDeliveryEngine()
                .AddDashboard(o => o.HideTrace = true);

            // Orleans clients (the Client, tools) are users with a key like HTTP callers; see docs/security.md.
            silo.AddIncomingGrainCallFilter<ClientCallFilter>();
            silo.Services.PostConfigure<EndpointOptions>(o =>
                o.GatewayListeningEndpoint = new IPEndPoint(GatewayListenAddress(orleans), o.GatewayListeningEndpoint?.Port is { } port and > 0 ? port : o.GatewayPort));
            silo.Services.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(2));
            // Failure detection (probe timeout, missed probes, votes…) stays at Orleans' defaults unless
            // configured under Orleans:Membership, e.g. for tests that kill a silo.
            silo.Services.AddOptions<ClusterMembershipOptions>().BindConfiguration($"{OrleansHostingOptions.Section}:Membership");
            silo.UsePlacement(orleans.Placement);
            if (TracingHostingExtensions.OtlpConfigured(builder.Configuration))
            {
                // A trace follows a request through every grain call, across silos.
                silo.AddActivityPropagation();
            }
        });
        return builder;
    }

    /// <summary>
    /// Durable mode: membership and reminders through Orleans' ADO.NET providers (invariant Npgsql,
    /// queries from the project's <c>OrleansQuery</c> rows) and grain state in the project's own
    /// PostgreSQL storage; the schema is migrated before clustering starts.
    /// </summary>
    private static ISiloBuilder UsePostgresCluster(this ISiloBuilder silo, OrleansHostingOptions orleans, string connectionString, StorageMode storage)
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
        return storage == StorageMode.AdoNet
            ? silo.UseAdoNetPersistence(connectionString, PostgresInvariant)
            : silo.UsePostgresPersistence(connectionString);
    }

    private const string PostgresInvariant = "Npgsql";

    /// <summary>
    /// Orleans places by resource use unless told otherwise. On a young cluster that prefers the silo
    /// a call came in on, so tests that need a delivery spread over every silo choose <c>Hash</c>.
    /// </summary>
    private static ISiloBuilder UsePlacement(this ISiloBuilder silo, PlacementMode placement)
    {
        switch (placement)
        {
            case PlacementMode.Random:
                silo.Services.AddSingleton<PlacementStrategy, RandomPlacement>();
                break;
            case PlacementMode.Hash:
                silo.Services.AddSingleton<PlacementStrategy, HashBasedPlacement>();
                break;
        }

        return silo;
    }

    /// <summary>
    /// The address the gateway listens on: loopback unless <c>Orleans:GatewayListenAddress</c> says
    /// otherwise (e.g. 0.0.0.0 on a private network where clients run on other machines).
    /// </summary>
    private static IPAddress GatewayListenAddress(OrleansHostingOptions orleans)
    {
        if (string.IsNullOrWhiteSpace(orleans.GatewayListenAddress))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(orleans.GatewayListenAddress, out var address)
            ? address
            : throw new OptionsValidationException($"{OrleansHostingOptions.Section}:{nameof(OrleansHostingOptions.GatewayListenAddress)}", typeof(string),
                [$"{OrleansHostingOptions.Section}:{nameof(OrleansHostingOptions.GatewayListenAddress)} '{orleans.GatewayListenAddress}' is not an IP address."]);
    }

    /// <summary>The configured users and their keys, for the HTTP API and for Orleans clients alike.</summary>
    private static IServiceCollection AddCallerDirectory(this IServiceCollection services)
    {
        // Once only: binding the section twice would list every user twice.
        if (services.Any(d => d.ServiceType == typeof(ApiKeyDirectory)))
        {
            return services;
        }

        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>());
        services.TryAddSingleton<ApiKeyDirectory>();
        return services;
    }

    /// <summary>The HTTP API: API-key users, role policies, problem details, OpenAPI.</summary>
    public static WebApplicationBuilder AddDeliveryApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddCallerDirectory();
        services.AddOptions<CallerSchemeOptions>();
        services.AddAuthentication(CallerSchemeOptions.SchemeName)
            .AddPolicyScheme(CallerSchemeOptions.SchemeName, "API key, or the interactive sign-in a host adds", o => o.ForwardDefaultSelector = context =>
                ApiKeyAuthenticationHandler.HasKey(context.Request)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : context.RequestServices.GetRequiredService<IOptions<CallerSchemeOptions>>().Value.Interactive ?? ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddSingleton<IAuthorizationHandler, MonitoringAccessHandler>();
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
        builder.AddOtlpExport();
        builder.AddHealth();
        services.AddLiveFeed();

        // The silo's own URL is where tracking links point unless Tracking:BaseUrl says otherwise (R13.1).
        services.Replace(ServiceDescriptor.Singleton<DeliveryGrains.Tracking.ISiloPublicUrl, Tracking.KestrelPublicUrl>());

        // HTML, CSS, script and JSON leave compressed; the live stream (text/event-stream) is not in the
        // list, so its events are never held back in a compressor's buffer. Off over HTTPS (the default):
        // pages carry antiforgery tokens, and compressing secrets beside reflected input invites BREACH.
        services.AddResponseCompression(o =>
        {
            o.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json", "application/problem+json", "image/x-icon"];
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
        });
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);

        return builder;
    }

    public static WebApplication MapDeliveryApi(this WebApplication app)
    {
        app.UseResponseCompression();
        app.UseExceptionHandler();
        app.UseDeclaredBodyLimit();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapHealth();
        app.MapMetrics().RequireAuthorization(Policies.Monitoring());
        app.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(Policies.Monitoring());
        app.MapDeliveries();
        app.MapDeliveryList();
        app.MapLiveFeed();
        app.MapMtaFeedback();
        app.MapDsn();
        app.MapDeliveryDomains();
        app.MapDeliveryLinks();
        app.MapTracking();
        app.MapProfilesAndAddresses();
        app.MapExports();
        return app;
    }
}
